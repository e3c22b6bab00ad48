namespace Dclm.Data;
internal static class AssemblyMarker { }
