namespace Dclm.Formats;
internal static class AssemblyMarker { }
