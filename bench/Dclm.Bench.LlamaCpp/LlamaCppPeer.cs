using Dclm.Benchmarks;

namespace Dclm.Bench.LlamaCpp;

/// <summary>llama.cpp through LLamaSharp's CPU build: the peer `dclm bench --compare llama.cpp` loads from this plugin.</summary>
public sealed class LlamaCppPeer : IBenchPeer
{
    /// <inheritdoc />
    public string Name => "llama.cpp";

    /// <inheritdoc />
    public IBenchTarget Open(string modelPath, int threads, int contextSize, bool useMemoryMap) =>
        new LlamaCppTarget(modelPath, threads, contextSize, useMemoryMap);
}
