using ILGPU;
using Dclm.Models;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>One layer's weights on the device: the seven matrices and the gains and biases (null where the architecture has none).</summary>
internal sealed class DeviceLayer : IDisposable
{
    public DeviceLayer(Accelerator accelerator, LayerWeights w, int index)
    {
        string at = $"layer {index}";
        Query = new DeviceMatrix(accelerator, w.Query, at + " query");
        Key = new DeviceMatrix(accelerator, w.Key, at + " key");
        Value = new DeviceMatrix(accelerator, w.Value, at + " value");
        Output = new DeviceMatrix(accelerator, w.Output, at + " attention output");
        Gate = new DeviceMatrix(accelerator, w.Gate, at + " gate");
        Up = new DeviceMatrix(accelerator, w.Up, at + " up");
        Down = new DeviceMatrix(accelerator, w.Down, at + " down");
        AttentionNorm = accelerator.Allocate1D(w.AttentionNorm);
        FeedForwardNorm = accelerator.Allocate1D(w.FeedForwardNorm);
        QueryNorm = w.QueryNorm is null ? null : accelerator.Allocate1D(w.QueryNorm);
        KeyNorm = w.KeyNorm is null ? null : accelerator.Allocate1D(w.KeyNorm);
        QueryBias = w.QueryBias is null ? null : accelerator.Allocate1D(w.QueryBias);
        KeyBias = w.KeyBias is null ? null : accelerator.Allocate1D(w.KeyBias);
        ValueBias = w.ValueBias is null ? null : accelerator.Allocate1D(w.ValueBias);
    }

    public DeviceMatrix Query { get; }
    public DeviceMatrix Key { get; }
    public DeviceMatrix Value { get; }
    public DeviceMatrix Output { get; }
    public DeviceMatrix Gate { get; }
    public DeviceMatrix Up { get; }
    public DeviceMatrix Down { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> AttentionNorm { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> FeedForwardNorm { get; }
    public MemoryBuffer1D<float, Stride1D.Dense>? QueryNorm { get; }
    public MemoryBuffer1D<float, Stride1D.Dense>? KeyNorm { get; }
    public MemoryBuffer1D<float, Stride1D.Dense>? QueryBias { get; }
    public MemoryBuffer1D<float, Stride1D.Dense>? KeyBias { get; }
    public MemoryBuffer1D<float, Stride1D.Dense>? ValueBias { get; }

    /// <summary>Bytes of the seven matrices in their types.</summary>
    public long MatrixBytes => Query.ByteLength + Key.ByteLength + Value.ByteLength + Output.ByteLength + Gate.ByteLength + Up.ByteLength + Down.ByteLength;

    public void Dispose()
    {
        foreach (var m in new[] { Query, Key, Value, Output, Gate, Up, Down }) m.Dispose();
        foreach (var b in new[] { AttentionNorm, FeedForwardNorm, QueryNorm, KeyNorm, QueryBias, KeyBias, ValueBias }) b?.Dispose();
    }
}
