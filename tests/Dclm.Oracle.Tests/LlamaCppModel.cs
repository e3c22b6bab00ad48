using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;

namespace Dclm.Oracle.Tests;

/// <summary>
/// llama.cpp (through LLamaSharp's CPU backend) running a GGUF file: the outside oracle. The KV cache is
/// F32 (LLamaSharp's default is F16, which would blur an f32 comparison), flash attention is off, and the
/// thread count is fixed.
/// </summary>
public sealed class LlamaCppModel : IDisposable
{
    private readonly LLamaWeights weights;
    private readonly ModelParams parameters;

    private LlamaCppModel(LLamaWeights weights, ModelParams parameters)
    {
        this.weights = weights;
        this.parameters = parameters;
    }

    public static LlamaCppModel Load(string path, int contextSize = 512)
    {
        LlamaCppRuntime.EnsureConfigured();
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            // One thread: ggml's workers spin at barriers, which on a busy 2-core machine turns a 10 ms decode
            // step into a second. Each dot product is done by one thread anyway, so the numbers do not change.
            Threads = 1,
            BatchThreads = 1,
            GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        return new LlamaCppModel(LLamaWeights.LoadFromFile(parameters), parameters);
    }

    /// <summary>Loads only the tokenizer of a GGUF file (llama.cpp's vocab_only mode); <see cref="Logits"/> is unavailable.</summary>
    public static LlamaCppModel LoadVocabulary(string path)
    {
        LlamaCppRuntime.EnsureConfigured();
        var parameters = new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 };
        return new LlamaCppModel(LLamaWeights.LoadFromFile(parameters), parameters);
    }

    public int VocabularySize => weights.Vocab.Count;

    /// <summary>
    /// Logits of the positions <paramref name="rows"/> (every position when null) of <paramref name="tokens"/>,
    /// run as one batch from position 0. (rows, vocab)
    /// </summary>
    public float[] Logits(IReadOnlyList<int> tokens, int[]? rows = null)
    {
        rows ??= Enumerable.Range(0, tokens.Count).ToArray();
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        var wanted = rows.ToHashSet();
        for (int i = 0; i < tokens.Count; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, wanted.Contains(i));
        var result = context.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
        int vocabulary = VocabularySize;
        var logits = new float[rows.Length * vocabulary];
        for (int r = 0; r < rows.Length; r++)
            context.NativeHandle.GetLogitsIth(rows[r]).CopyTo(logits.AsSpan(r * vocabulary, vocabulary));
        return logits;
    }

    /// <summary>
    /// llama.cpp's pooled embedding of <paramref name="tokens"/> (as llama-server <c>--embeddings --pooling</c> computes it,
    /// before any normalisation): the final normed hidden states, averaged over the tokens or the last token's. (dim)
    /// </summary>
    public float[] Embedding(IReadOnlyList<int> tokens, LLamaPoolingType pooling)
    {
        var embeddingParameters = new ModelParams(parameters.ModelPath)
        {
            ContextSize = parameters.ContextSize, BatchSize = parameters.BatchSize, UBatchSize = parameters.UBatchSize,
            Threads = 1, BatchThreads = 1, GpuLayerCount = 0, TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false, Embeddings = true, PoolingType = pooling,
        };
        using var context = weights.CreateContext(embeddingParameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Count; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, true);
        var result = context.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
        return context.NativeHandle.GetEmbeddingsSeq(LLamaSeqId.Zero).ToArray();
    }

    /// <summary>
    /// llama.cpp's greedy continuation: the prompt as one batch, then one decode step per token, each next
    /// token chosen by llama.cpp's own greedy sampler. End-of-sequence does not stop it.
    /// </summary>
    public int[] GreedyContinuation(IReadOnlyList<int> prompt, int count)
    {
        using var context = weights.CreateContext(parameters);
        using var sampler = new GreedySamplingPipeline();
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        var continuation = new int[count];
        for (int generated = 0; generated < count; generated++)
        {
            var result = context.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
            LLamaToken next = sampler.Sample(context.NativeHandle, batch.TokenCount - 1);
            continuation[generated] = (int)next;
            batch.Clear();
            batch.Add(next, prompt.Count + generated, LLamaSeqId.Zero, true);
        }
        return continuation;
    }

    /// <summary>llama.cpp's tokenization of <paramref name="text"/>: no BOS, special tokens not parsed.</summary>
    /// <summary>llama.cpp's tokens of <paramref name="text"/> without BOS, with control tokens written in it parsed when <paramref name="special"/>.</summary>
    public int[] Tokenize(string text, bool special) =>
        weights.Tokenize(text, add_bos: false, special, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();

    /// <summary>llama.cpp's FIM token of a role ("prefix", "suffix", "middle", "pad", "repository", "file_separator"); null when it found none.</summary>
    public int? FillInMiddle(string role)
    {
        var vocabulary = weights.Vocab;
        LLamaToken? token = role switch
        {
            "prefix" => vocabulary.InfillPrefix, "suffix" => vocabulary.InfillSuffix, "middle" => vocabulary.InfillMiddle,
            "pad" => vocabulary.InfillPad, "repository" => vocabulary.InfillRep, "file_separator" => vocabulary.InfillSep,
            _ => throw new ArgumentException($"unknown FIM role '{role}'", nameof(role)),
        };
        return token is { } t ? (int)t : null;
    }

    public int[] Tokenize(string text) =>
        weights.Tokenize(text, add_bos: false, special: false, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();

    public void Dispose() => weights.Dispose();
}
