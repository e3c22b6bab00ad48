using System.Runtime.InteropServices;
using Dclm.Tensors;
using Dclm.Tensors.Quantization;

namespace Dclm.Embeddings;

/// <summary>
/// The parameters of a BERT-family encoder. Embedding tables and the small vectors are managed arrays;
/// the matrix products' weights live in one native block, row-major (out, in) as
/// <see cref="Dclm.Tensors.Compute.MatMul"/> takes them, in F32 or a ggml quantized type.
/// </summary>
public sealed unsafe class BertWeights : IDisposable
{
    private byte* block;

    private BertWeights(BertConfig config, float[] words, float[] positions, float[] tokenTypes, float[] normGain, float[] normBias, BertLayerWeights[] layers, byte* block, GgmlType type)
    {
        Config = config;
        WordEmbeddings = words;
        PositionEmbeddings = positions;
        TokenTypeEmbeddings = tokenTypes;
        EmbeddingNormGain = normGain;
        EmbeddingNormBias = normBias;
        Layers = layers;
        this.block = block;
        MatrixType = type;
    }

    /// <summary>The encoder's shape.</summary>
    public BertConfig Config { get; }
    /// <summary>(vocabulary, width)</summary>
    public float[] WordEmbeddings { get; }
    /// <summary>(max positions, width)</summary>
    public float[] PositionEmbeddings { get; }
    /// <summary>(token types, width)</summary>
    public float[] TokenTypeEmbeddings { get; }
    /// <summary>(width) LayerNorm gain after the embedding sum.</summary>
    public float[] EmbeddingNormGain { get; }
    /// <summary>(width)</summary>
    public float[] EmbeddingNormBias { get; }
    /// <summary>One entry per encoder layer.</summary>
    public BertLayerWeights[] Layers { get; }
    /// <summary>Storage type of every layer matrix.</summary>
    public GgmlType MatrixType { get; }

    /// <summary>
    /// Builds the weights from float tensors: <paramref name="layers"/> hold each layer's matrices as
    /// (out, in) row-major arrays. The matrices are stored as <paramref name="type"/> (F32, F16, Q8_0, ...).
    /// </summary>
    public static BertWeights Create(BertConfig config, float[] words, float[] positions, float[] tokenTypes, float[] normGain, float[] normBias,
        IReadOnlyList<BertLayerTensors> layers, GgmlType type = GgmlType.F32)
    {
        config.Validate();
        int w = config.Width, f = config.FeedForwardWidth;
        Check(words, (long)config.VocabularySize * w, "word embeddings");
        Check(positions, (long)config.MaxPositions * w, "position embeddings");
        Check(tokenTypes, (long)config.TokenTypes * w, "token type embeddings");
        Check(normGain, w, "embedding LayerNorm gain");
        Check(normBias, w, "embedding LayerNorm bias");
        if (layers.Count != config.Layers) throw new InvalidDataException($"{layers.Count} layers given, the config names {config.Layers}");
        if (!Quantizer.Supports(type)) throw new NotSupportedException($"encoder matrices cannot be stored as {GgmlTypeInfo.Name(type)}");
        foreach (int columns in new[] { w, f })
            if (columns % GgmlTypeInfo.BlockSize(type) != 0)
                throw new NotSupportedException($"{GgmlTypeInfo.Name(type)} needs rows of whole {GgmlTypeInfo.BlockSize(type)}-value blocks; this encoder has rows of {columns}");

        long qkv = GgmlTypeInfo.ByteCount(type, 3L * w * w), output = GgmlTypeInfo.ByteCount(type, (long)w * w);
        long up = GgmlTypeInfo.ByteCount(type, (long)f * w), down = GgmlTypeInfo.ByteCount(type, (long)w * f);
        long perLayer = qkv + output + up + down;
        byte* memory = (byte*)NativeMemory.AlignedAlloc((nuint)(perLayer * config.Layers), 64);
        var result = new BertLayerWeights[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            var t = layers[l];
            string name = $"layer {l}";
            byte* at = memory + perLayer * l;
            // Q, K and V rows back to back: one product computes all three.
            var fused = new float[3 * w * w];
            Check(t.Query, (long)w * w, name + " query"); t.Query.CopyTo(fused, 0);
            Check(t.Key, (long)w * w, name + " key"); t.Key.CopyTo(fused, w * w);
            Check(t.Value, (long)w * w, name + " value"); t.Value.CopyTo(fused, 2 * w * w);
            var fusedBias = new float[3 * w];
            Check(t.QueryBias, w, name + " query bias"); t.QueryBias.CopyTo(fusedBias, 0);
            Check(t.KeyBias, w, name + " key bias"); t.KeyBias.CopyTo(fusedBias, w);
            Check(t.ValueBias, w, name + " value bias"); t.ValueBias.CopyTo(fusedBias, 2 * w);
            Check(t.AttentionOutput, (long)w * w, name + " attention output");
            Check(t.Intermediate, (long)f * w, name + " intermediate");
            Check(t.Output, (long)w * f, name + " output");
            foreach (var (vector, length, label) in new[] { (t.AttentionOutputBias, w, "attention output bias"), (t.AttentionNormGain, w, "attention LayerNorm gain"),
                (t.AttentionNormBias, w, "attention LayerNorm bias"), (t.IntermediateBias, f, "intermediate bias"), (t.OutputBias, w, "output bias"),
                (t.OutputNormGain, w, "output LayerNorm gain"), (t.OutputNormBias, w, "output LayerNorm bias") })
                Check(vector, length, $"{name} {label}");
            result[l] = new BertLayerWeights(
                Store(fused, 3 * w, w, type, at),
                fusedBias,
                Store(t.AttentionOutput, w, w, type, at + qkv),
                t.AttentionOutputBias, t.AttentionNormGain, t.AttentionNormBias,
                Store(t.Intermediate, f, w, type, at + qkv + output),
                t.IntermediateBias,
                Store(t.Output, w, f, type, at + qkv + output + up),
                t.OutputBias, t.OutputNormGain, t.OutputNormBias);
        }
        return new BertWeights(config, words, positions, tokenTypes, normGain, normBias, result, memory, type);
    }

    private static WeightMatrix Store(float[] values, int rows, int columns, GgmlType type, byte* destination)
    {
        long bytes = GgmlTypeInfo.ByteCount(type, (long)rows * columns);
        Quantizer.Quantize(type, values, rows, columns, new Span<byte>(destination, checked((int)bytes)));
        return new WeightMatrix(destination, type, rows, columns);
    }

    private static void Check(float[] values, long expected, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length != expected) throw new InvalidDataException($"{name} holds {values.Length} values, expected {expected}");
    }

    /// <summary>Frees the native matrix block; the layer matrices must not be used afterwards.</summary>
    public void Dispose()
    {
        if (block != null)
        {
            NativeMemory.AlignedFree(block);
            block = null;
        }
    }
}

/// <summary>One encoder layer as float tensors, matrices (out, in) row-major, before storage.</summary>
public sealed record BertLayerTensors(
    float[] Query, float[] QueryBias, float[] Key, float[] KeyBias, float[] Value, float[] ValueBias,
    float[] AttentionOutput, float[] AttentionOutputBias, float[] AttentionNormGain, float[] AttentionNormBias,
    float[] Intermediate, float[] IntermediateBias, float[] Output, float[] OutputBias, float[] OutputNormGain, float[] OutputNormBias);

/// <summary>One encoder layer as the forward pass uses it.</summary>
/// <param name="QueryKeyValue">(3·width, width): Q, K and V rows stacked.</param>
/// <param name="QueryKeyValueBias">(3·width)</param>
/// <param name="AttentionOutput">(width, width)</param>
/// <param name="AttentionOutputBias">(width)</param>
/// <param name="AttentionNormGain">(width) LayerNorm after the attention residual.</param>
/// <param name="AttentionNormBias">(width)</param>
/// <param name="Intermediate">(feed-forward width, width)</param>
/// <param name="IntermediateBias">(feed-forward width)</param>
/// <param name="Output">(width, feed-forward width)</param>
/// <param name="OutputBias">(width)</param>
/// <param name="OutputNormGain">(width) LayerNorm after the feed-forward residual.</param>
/// <param name="OutputNormBias">(width)</param>
public sealed record BertLayerWeights(
    WeightMatrix QueryKeyValue, float[] QueryKeyValueBias,
    WeightMatrix AttentionOutput, float[] AttentionOutputBias, float[] AttentionNormGain, float[] AttentionNormBias,
    WeightMatrix Intermediate, float[] IntermediateBias,
    WeightMatrix Output, float[] OutputBias, float[] OutputNormGain, float[] OutputNormBias);
