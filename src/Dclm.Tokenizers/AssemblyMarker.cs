namespace Dclm.Tokenizers;
internal static class AssemblyMarker { }
