namespace Dclm.Benchmarks;

/// <summary>
/// An engine `dclm bench --compare` measures beside ours. Peers live in plugin assemblies outside the
/// shipped program (see <see cref="BenchPeers"/>); each exposes one public type that implements this.
/// </summary>
public interface IBenchPeer
{
    /// <summary>The name <c>--compare</c> takes, e.g. "llama.cpp".</summary>
    string Name { get; }

    /// <summary>Loads <paramref name="modelPath"/> with <paramref name="threads"/> threads and room for <paramref name="contextSize"/> tokens.</summary>
    /// <param name="modelPath">The GGUF file both engines run.</param>
    /// <param name="threads">Compute threads.</param>
    /// <param name="contextSize">Tokens of context to allocate.</param>
    /// <param name="useMemoryMap">Map the file (true) or read the weights into the peer's own memory.</param>
    IBenchTarget Open(string modelPath, int threads, int contextSize, bool useMemoryMap);
}
