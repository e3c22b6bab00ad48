namespace Dclm.Inference;
internal static class AssemblyMarker { }
