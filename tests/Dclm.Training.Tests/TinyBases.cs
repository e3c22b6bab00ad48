using System.Runtime.InteropServices;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Quantization;

namespace Dclm.Training.Tests;

/// <summary>Small frozen bases in memory, every matrix stored in one type, for LoRA tests.</summary>
internal static unsafe class TinyBases
{
    /// <summary>An open_lm model: LayerNorm, qk-norm over the full width, half-split RoPE.</summary>
    public static ModelConfig OpenLm(int dim = 32, int hidden = 64, int vocabulary = 23) => ModelConfig.OpenLm(dim, 2, 2, vocabulary, 16) with { HiddenDim = hidden };

    /// <summary>A Llama model with grouped-query attention and llama.cpp's adjacent-pair RoPE layout.</summary>
    public static ModelConfig Llama(int dim = 32, int hidden = 64, int vocabulary = 23) => new()
    {
        Architecture = Dclm.Models.Architecture.Llama, Dim = dim, Layers = 2, Heads = 4, KeyValueHeads = 2, HiddenDim = hidden, VocabularySize = vocabulary,
        ContextLength = 16, NormEps = 1e-6f, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None, RopeStyle = Tensors.Ops.RopeStyle.AdjacentPairs, RopeTheta = 500,
    };

    /// <summary>A Qwen2 model: Llama with Q/K/V biases and half-split RoPE.</summary>
    public static ModelConfig Qwen2(int dim = 32, int hidden = 64, int vocabulary = 23) => Llama(dim, hidden, vocabulary) with
    {
        Architecture = Dclm.Models.Architecture.Qwen2, RopeStyle = Tensors.Ops.RopeStyle.HalfSplit,
    };

    /// <summary>A Qwen3 model: per-head q/k RMS norms and a head width of its own (16 × 4 heads = 64 ≠ dim).</summary>
    public static ModelConfig Qwen3(int dim = 32, int hidden = 64, int vocabulary = 23) => Llama(dim, hidden, vocabulary) with
    {
        Architecture = Dclm.Models.Architecture.Qwen3, QueryKeyNorm = QueryKeyNorm.PerHead, HeadDimension = 16, Heads = 4, KeyValueHeads = 2,
        RopeStyle = Tensors.Ops.RopeStyle.HalfSplit,
    };

    /// <summary>Random weights for <paramref name="config"/> with every matrix stored as <paramref name="type"/>.</summary>
    public static ModelWeights Create(ModelConfig config, GgmlType type, int seed)
    {
        var random = new Random(seed);
        var owners = new List<IDisposable>();
        WeightMatrix Matrix(int rows, int columns, double scale)
        {
            var values = new float[rows * columns];
            for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
            var memory = new NativeBlock(GgmlTypeInfo.ByteCount(type, columns) * rows);
            owners.Add(memory);
            Quantizer.Quantize(type, values, rows, columns, new Span<byte>(memory.Pointer, (int)memory.Length));
            return new WeightMatrix(memory.Pointer, type, rows, columns);
        }
        float[] Vector(int length, double center, double spread) => Enumerable.Range(0, length).Select(_ => (float)(center + (random.NextDouble() * 2 - 1) * spread)).ToArray();
        int d = config.Dim, qd = config.QueryDim, kv = config.KeyValueDim, h = config.HiddenDim;
        double inScale = 1.5 / Math.Sqrt(d);
        var embedding = Matrix(config.VocabularySize, d, 1.0);
        var layers = Enumerable.Range(0, config.Layers).Select(_ => new LayerWeights
        {
            AttentionNorm = Vector(d, 1, 0.4),
            Query = Matrix(qd, d, inScale), Key = Matrix(kv, d, inScale), Value = Matrix(kv, d, inScale),
            QueryBias = config.AttentionBias ? Vector(qd, 0, 0.3) : null,
            KeyBias = config.AttentionBias ? Vector(kv, 0, 0.3) : null,
            ValueBias = config.AttentionBias ? Vector(kv, 0, 0.3) : null,
            QueryNorm = config.QueryKeyNorm switch { QueryKeyNorm.FullWidth => Vector(qd, 1, 0.4), QueryKeyNorm.PerHead => Vector(config.HeadDim, 1, 0.4), _ => null },
            KeyNorm = config.QueryKeyNorm switch { QueryKeyNorm.FullWidth => Vector(kv, 1, 0.4), QueryKeyNorm.PerHead => Vector(config.HeadDim, 1, 0.4), _ => null },
            Output = Matrix(d, qd, 1.5 / Math.Sqrt(qd)),
            FeedForwardNorm = Vector(d, 1, 0.4),
            Gate = Matrix(h, d, inScale), Up = Matrix(h, d, inScale), Down = Matrix(d, h, 1.5 / Math.Sqrt(h)),
        }).ToArray();
        var output = config.TiedEmbeddings ? embedding : Matrix(config.VocabularySize, d, inScale);
        return new ModelWeights(embedding, layers, Vector(d, 1, 0.4), output, owners.ToArray());
    }

    private sealed class NativeBlock(long length) : IDisposable
    {
        public byte* Pointer { get; private set; } = (byte*)NativeMemory.AllocZeroed((nuint)length);
        public long Length { get; } = length;

        public void Dispose()
        {
            if (Pointer == null) return;
            NativeMemory.Free(Pointer);
            Pointer = null;
        }
    }
}
