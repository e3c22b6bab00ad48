namespace Dclm.Checkpoints;
internal static class AssemblyMarker { }
