using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Embeddings;

/// <summary>
/// Embeddings from a decoder-only language model, as llama-server's <c>--embeddings</c> makes them: each text
/// (after the beginning-of-sequence token when the tokenizer adds one) runs through the model, and the final
/// normalised hidden states (<see cref="DecoderModel.ForwardHidden"/>, what the output head reads) are pooled:
/// the mean over every token, or the last token's state (which alone has attended to the whole text).
/// Texts are packed several to a forward step, each in its own KV-cache slot, freed after the step.
/// </summary>
public sealed class DecoderEmbedder : ITextEmbedder
{
    private readonly DecoderModel model;
    private readonly Tokenizer tokenizer;
    private readonly int[] sequenceStart; // what the tokenizer puts before a prompt (Tokenizer.AppendSequenceStart): its BOS id, or nothing
    private readonly KvCacheType cacheType;
    private readonly object gate = new();
    private KvCache? cache;

    /// <summary>
    /// Embeds with <paramref name="model"/> (not owned: it may be serving generation at the same time, steps are
    /// serialised by the model) and its <paramref name="tokenizer"/>. Inputs are cut at <paramref name="maxTokens"/>
    /// (the model's context when null); the KV cache of <paramref name="cacheType"/> is allocated on first use.
    /// </summary>
    public DecoderEmbedder(string modelId, DecoderModel model, Tokenizer tokenizer, EmbeddingPooling pooling, bool normalize = true,
        int? maxTokens = null, KvCacheType cacheType = KvCacheType.F32)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        if (pooling is not (EmbeddingPooling.Mean or EmbeddingPooling.Last))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "a decoder's embeddings pool the mean or the last token");
        int limit = maxTokens ?? model.Config.ContextLength;
        if (limit < 2 || limit > model.Config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"the input limit must lie in [2, {model.Config.ContextLength}] (the model's context), not {limit}");
        ModelId = modelId;
        this.model = model;
        this.tokenizer = tokenizer;
        var start = new List<int>();
        tokenizer.AppendSequenceStart(start);
        sequenceStart = [.. start];
        this.cacheType = cacheType;
        Pooling = pooling;
        Normalized = normalize;
        MaxTokens = limit;
        BatchTokens = Math.Max(limit, 512);
    }

    /// <inheritdoc/>
    public string ModelId { get; }
    /// <inheritdoc/>
    public int Dimensions => model.Config.Dim;
    /// <inheritdoc/>
    public int MaxTokens { get; }
    /// <inheritdoc/>
    public bool Normalized { get; }
    /// <inheritdoc/>
    public int VocabularySize => model.Config.VocabularySize;
    /// <summary>How token states become one vector: mean or last.</summary>
    public EmbeddingPooling Pooling { get; }
    /// <summary>Most tokens, and so the KV cache's size, of one forward step (at least <see cref="MaxTokens"/>).</summary>
    public int BatchTokens { get; }
    /// <summary>Most texts in one forward step.</summary>
    public const int BatchSequences = 16;

    /// <inheritdoc/>
    public int SpecialTokenCount => sequenceStart.Length;

    /// <inheritdoc/>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return tokenizer.Encode(text);
    }

    /// <summary>The beginning-of-sequence token when the tokenizer adds one, then the tokens, cut to <see cref="MaxTokens"/>.</summary>
    public int[] Frame(ReadOnlySpan<int> tokens)
    {
        int special = SpecialTokenCount, kept = Math.Min(tokens.Length, MaxTokens - special);
        var result = new int[kept + special];
        sequenceStart.CopyTo(result, 0);
        tokens[..kept].CopyTo(result.AsSpan(special));
        return result;
    }

    /// <inheritdoc/>
    public float[][] EmbedTokens(IReadOnlyList<int[]> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input {i} is null");
            if (input.Length == 0 || input.Length > MaxTokens) throw new ArgumentException($"input {i} holds {input.Length} tokens, outside 1..{MaxTokens}", nameof(inputs));
            foreach (int id in input)
                if ((uint)id >= (uint)VocabularySize) throw new ArgumentOutOfRangeException(nameof(inputs), $"token id {id} of input {i} is outside the vocabulary of {VocabularySize}");
        }
        var result = new float[inputs.Count][];
        lock (gate)
        {
            cache ??= new KvCache(model.Config, BatchSequences, MaxTokens, KvCache.DefaultBlockSize,
                (BatchTokens + KvCache.DefaultBlockSize - 1) / KvCache.DefaultBlockSize + BatchSequences, cacheType);
            for (int first = 0; first < inputs.Count;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = 0, tokens = 0;
                while (first + count < inputs.Count && count < BatchSequences && (count == 0 || tokens + inputs[first + count].Length <= BatchTokens))
                    tokens += inputs[first + count++].Length;
                RunBatch(inputs, first, count, tokens, result);
                first += count;
            }
        }
        return result;
    }

    // One forward step over inputs [first, first + count), input k in slot k; hidden rows: every token for the mean, the last for last.
    private void RunBatch(IReadOnlyList<int[]> inputs, int first, int count, int tokens, float[][] result)
    {
        var ids = new int[tokens];
        var positions = new int[tokens];
        var slots = new int[tokens];
        var rows = new List<int>();
        int at = 0;
        for (int k = 0; k < count; k++)
        {
            var input = inputs[first + k];
            for (int p = 0; p < input.Length; p++, at++)
            {
                (ids[at], positions[at], slots[at]) = (input[p], p, k);
                if (Pooling == EmbeddingPooling.Mean || p == input.Length - 1) rows.Add(at);
            }
        }
        var batch = new ForwardBatch { Tokens = ids, Positions = positions, Slots = slots, LogitRows = [.. rows] };
        int width = Dimensions;
        var hidden = new float[rows.Count * width];
        try { model.ForwardHidden(batch, cache!, hidden); }
        finally { for (int k = 0; k < count; k++) cache!.Free(k); }
        int row = 0;
        for (int k = 0; k < count; k++)
        {
            int pooled = Pooling == EmbeddingPooling.Mean ? inputs[first + k].Length : 1;
            var vector = new float[width];
            Embeddings.Pooling.Pool(hidden.AsSpan(row * width, pooled * width), pooled, width, EmbeddingPooling.Mean, Normalized, vector);
            result[first + k] = vector;
            row += pooled;
        }
    }

    /// <summary>
    /// Each token's span, from the text each token decodes to. A token that ends inside a character (part of a
    /// multi-byte character) gets an empty span at the character's start; the character goes to the token that completes it.
    /// </summary>
    /// <exception cref="InvalidDataException">The tokenizer does not give the text back (it normalises it), so spans cannot be found.</exception>
    public IReadOnlyList<(int Start, int End)> TokenSpans(string text)
    {
        var decoder = tokenizer.CreateStreamingDecoder();
        var spans = new List<(int, int)>();
        var decoded = new System.Text.StringBuilder();
        foreach (int id in Tokenize(text))
        {
            int start = decoded.Length;
            decoded.Append(decoder.Append(id));
            spans.Add((start, decoded.Length));
        }
        decoded.Append(decoder.Flush());
        if (decoded.ToString() != text)
            throw new InvalidDataException($"{ModelId}'s tokenizer does not decode back to the text it encoded (it normalises text), so chunks cannot be cut at its tokens; index with a sentence embedder such as minilm");
        return spans;
    }

    /// <summary>Drops the KV cache; the model belongs to the caller.</summary>
    public void Dispose()
    {
        lock (gate) cache = null;
    }
}
