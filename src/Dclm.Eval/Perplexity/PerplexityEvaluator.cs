using Dclm.Eval.Scoring;
using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Eval.Perplexity;

/// <summary>Perplexity and bits per byte of a text.</summary>
/// <param name="Tokens">Tokens scored (every token of the text).</param>
/// <param name="Bytes">UTF-8 bytes of the text.</param>
/// <param name="NegativeLogLikelihood">Σ −ln p(token | context), nats.</param>
/// <param name="Windows">Forward windows run.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record PerplexityResult(long Tokens, long Bytes, double NegativeLogLikelihood, int Windows, double Seconds)
{
    /// <summary>exp(NLL / tokens).</summary>
    public double Perplexity => Math.Exp(NegativeLogLikelihood / Tokens);
    /// <summary>NLL / (bytes · ln 2): tokenizer-independent.</summary>
    public double BitsPerByte => NegativeLogLikelihood / (Bytes * Math.Log(2));
    /// <summary>Tokens per second.</summary>
    public double TokensPerSecond => Seconds > 0 ? Tokens / Seconds : 0;
}

/// <summary>
/// Scores every token of a text with a sliding window, as in Hugging Face's perplexity guide: windows of
/// up to the model's context, advanced by <c>stride</c> tokens, each scoring only the tokens the previous
/// window did not, so every token after the first window sees at least window − stride tokens of context.
/// The text is preceded by the end-of-text (or beginning-of-sequence) token so its first token is scored
/// too, as lm-evaluation-harness's rolling log-likelihood does.
/// </summary>
public sealed class PerplexityEvaluator(IDecoderModel model, Tokenizer tokenizer)
{
    /// <summary>Scores <paramref name="text"/>; <paramref name="window"/> defaults to the model's context, <paramref name="stride"/> to half of it.</summary>
    public PerplexityResult Evaluate(string text, int? window = null, int? stride = null, CancellationToken cancellation = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int size = window ?? model.Config.ContextLength;
        if (size < 2 || size > model.Config.ContextLength) throw new ArgumentException($"window {size} must be in [2, {model.Config.ContextLength}]");
        int step = stride ?? Math.Max(1, size / 2);
        if (step < 1 || step > size - 1) throw new ArgumentException($"stride {step} must be in [1, {size - 1}]");
        int start = tokenizer.BeginningOfSequenceId ?? tokenizer.EndOfSequenceId
            ?? throw new ArgumentException("the tokenizer has neither a beginning- nor an end-of-sequence token to start the text with");
        var body = tokenizer.Encode(text);
        if (body.Length == 0) throw new ArgumentException("the text holds no tokens");
        int[] ids = [start, .. body];
        int vocabulary = model.Config.VocabularySize;
        var cache = model.CreateCache(1, size);
        var logits = new float[(long)Math.Min(size, LogLikelihoodScorer.PrefillChunk) * vocabulary];
        double nll = 0;
        int windows = 0;
        // Token t (t >= 1) is predicted by position t - 1; scored[t] is covered once, by the first window ending past it.
        int scoredUpTo = 1;
        for (int end = Math.Min(size, ids.Length); ; end = Math.Min(end + step, ids.Length))
        {
            cancellation.ThrowIfCancellationRequested();
            int begin = Math.Max(0, end - size);
            cache.Truncate(0, 0);
            for (int chunk = begin; chunk < end - 1; chunk += LogLikelihoodScorer.PrefillChunk)
            {
                int count = Math.Min(LogLikelihoodScorer.PrefillChunk, end - 1 - chunk);
                // Rows for positions whose next token is not scored yet.
                var rows = Enumerable.Range(0, count).Where(r => chunk + r + 1 >= scoredUpTo).ToArray();
                var batch = ForwardBatch.Sequence(ids.AsSpan(chunk, count), chunk - begin);
                batch = new ForwardBatch { Tokens = batch.Tokens, Positions = batch.Positions, Slots = batch.Slots, LogitRows = rows.Length > 0 ? rows : [count - 1] };
                model.Forward(batch, cache, logits.AsSpan(0, batch.LogitRows.Length * vocabulary), cancellation);
                for (int r = 0; r < rows.Length; r++)
                    nll -= LogSoftmax.At(logits.AsSpan(r * vocabulary, vocabulary), ids[chunk + rows[r] + 1], out _);
            }
            scoredUpTo = end;
            windows++;
            if (end == ids.Length) break;
        }
        return new PerplexityResult(body.Length, System.Text.Encoding.UTF8.GetByteCount(text), nll, windows, clock.Elapsed.TotalSeconds);
    }
}
