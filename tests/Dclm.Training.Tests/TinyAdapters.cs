using Dclm.Models;
using Dclm.Training.FineTuning;

namespace Dclm.Training.Tests;

/// <summary>LoRA adapters for gradient checks.</summary>
internal static class TinyAdapters
{
    /// <summary>
    /// Rank-2 adapters (α 3, no dropout) on the default targets with B drawn from U(−0.3, 0.3): B starts at zero, and
    /// random values make every path through the adapters carry a gradient.
    /// </summary>
    public static LoraAdapters Random(ModelConfig config, int seed)
    {
        var adapters = LoraAdapters.Create(config, new LoraSettings { Rank = 2, Alpha = 3, Dropout = 0 }, (ulong)seed);
        var random = new Random(seed);
        foreach (var adapter in adapters.All)
            for (int i = 0; i < adapter.B.Length; i++) adapter.B.Values[i] = (float)((random.NextDouble() * 2 - 1) * 0.3);
        return adapters;
    }
}
