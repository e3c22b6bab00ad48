namespace Dclm.Models;

public static partial class DecoderModelExtensions
{
    /// <summary>Most prompt positions one forward step of <see cref="PromptLogits"/> runs (bounds activation memory).</summary>
    public const int PromptLogitsChunk = 256;

    /// <summary>
    /// The logits of every position of <paramref name="tokens"/>, as one fresh sequence: row p (of the vocabulary's width)
    /// predicts token p + 1. Runs in chunks of <see cref="PromptLogitsChunk"/> positions over a cache of
    /// <paramref name="cacheType"/> made for the call. The one copy of this loop (the logits command, quantization quality).
    /// <paramref name="cancellation"/> stops it between layers.
    /// </summary>
    public static float[] PromptLogits(this IDecoderModel model, ReadOnlySpan<int> tokens, KvCacheType cacheType = KvCacheType.F32,
        CancellationToken cancellation = default)
    {
        if (tokens.Length == 0) throw new ArgumentException("there are no tokens to score", nameof(tokens));
        if (tokens.Length > model.Config.ContextLength)
            throw new ArgumentException($"{tokens.Length} tokens exceed the context of {model.Config.ContextLength}", nameof(tokens));
        int vocabulary = model.Config.VocabularySize;
        var logits = new float[(long)tokens.Length * vocabulary];
        var cache = model.CreateCache(1, tokens.Length, cacheType);
        for (int start = 0; start < tokens.Length; start += PromptLogitsChunk)
        {
            int count = Math.Min(PromptLogitsChunk, tokens.Length - start);
            model.Forward(ForwardBatch.Sequence(tokens.Slice(start, count), start, allLogits: true), cache, logits.AsSpan(start * vocabulary, count * vocabulary), cancellation);
        }
        return logits;
    }
}
