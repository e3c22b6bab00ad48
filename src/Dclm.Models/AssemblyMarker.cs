namespace Dclm.Models;
internal static class AssemblyMarker { }
