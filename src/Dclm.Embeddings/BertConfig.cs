namespace Dclm.Embeddings;

/// <summary>The shape of a BERT-family encoder (post-norm, learned absolute positions, GELU).</summary>
/// <param name="VocabularySize">Rows of the word embedding table (30522 for bert-base-uncased).</param>
/// <param name="Width">Hidden width (384 for MiniLM-L6).</param>
/// <param name="Layers">Encoder layers (6 for MiniLM-L6).</param>
/// <param name="Heads">Attention heads; Width / Heads is the head width (12 heads of 32 for MiniLM-L6).</param>
/// <param name="FeedForwardWidth">Intermediate width of the GELU feed-forward block (1536 for MiniLM-L6).</param>
/// <param name="MaxPositions">Rows of the position embedding table (512).</param>
/// <param name="TokenTypes">Rows of the token-type embedding table (2); every input here is type 0.</param>
/// <param name="NormEpsilon">LayerNorm epsilon (1e-12 for BERT).</param>
/// <param name="MaxTokens">Longest input the model is used with, [CLS] and [SEP] included; longer texts are
/// truncated (256 for all-MiniLM-L6-v2, its sentence-transformers max_seq_length).</param>
public sealed record BertConfig(
    int VocabularySize,
    int Width,
    int Layers,
    int Heads,
    int FeedForwardWidth,
    int MaxPositions,
    int TokenTypes,
    float NormEpsilon,
    int MaxTokens)
{
    /// <summary>Width of one attention head.</summary>
    public int HeadWidth => Width / Heads;

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        if (VocabularySize <= 0 || Width <= 0 || Layers <= 0 || Heads <= 0 || FeedForwardWidth <= 0 || MaxPositions <= 0 || TokenTypes <= 0)
            throw new InvalidDataException($"encoder sizes must be positive: {this}");
        if (Width % Heads != 0) throw new InvalidDataException($"width {Width} is not a whole number of {Heads} heads");
        if (MaxTokens < 2 || MaxTokens > MaxPositions) throw new InvalidDataException($"max tokens {MaxTokens} must lie in [2, {MaxPositions}] (the position table)");
        if (!(NormEpsilon > 0)) throw new InvalidDataException($"LayerNorm epsilon {NormEpsilon} must be positive");
    }
}
