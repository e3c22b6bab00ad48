using System.Runtime.InteropServices;
using Dclm.Inference.Speculation;
using Dclm.Tensors.Compute;

namespace Dclm.Inference.Engine;

/// <summary>One sequence's draw in a step: its first logits row and the draft tokens the rows after it check.</summary>
internal readonly record struct DrawItem(Sequence Sequence, int Row, int Drafts);

/// <summary>
/// Draws the next token (and its log-probabilities, when asked) of every sequence that samples in a step,
/// on the compute pool's threads. A draw at temperature 1 over a 50k vocabulary is 50-65 us, so eight
/// sequences drawn one after another on the engine thread left the other core idle: eight draws measured
/// 500 us serial and 280-320 us on two pool threads (medians of 200).
/// Each sequence has its own sampler and its own logits rows, and each thread its own scratch,
/// so the draws are independent; the streaming, stop checks and finishing stay on the engine thread.
/// A sequence that checks a draft draws with <see cref="DraftVerifier"/>, one row after another while the drawn token
/// equals the draft's, so it may emit several tokens; each emitted token is drawn exactly as plain decoding draws it.
/// </summary>
internal sealed class SamplingJob(int vocabulary, int maxDraws, int maxDraftTokens, int? endOfSequenceId) : ComputeJob
{
    private readonly int _stride = maxDraftTokens + 1;
    private float[][] _scratch = [];
    private List<DrawItem>? _items;
    private float[] _logits = [];
    private int _next;

    /// <summary>Most tokens one draw emits.</summary>
    public int Stride => _stride;
    /// <summary>Tokens emitted for item i of the last <see cref="Run"/>: <see cref="Counts"/>[i] of them from i·<see cref="Stride"/>.</summary>
    public int[] Tokens { get; } = new int[maxDraws * (maxDraftTokens + 1)];
    /// <summary>How many tokens item i emitted (at least 1).</summary>
    public int[] Counts { get; } = new int[maxDraws];
    /// <summary>Log-probabilities of each emitted token, laid out as <see cref="Tokens"/>, when its request asked for them.</summary>
    public TokenLogprobs?[] Logprobs { get; } = new TokenLogprobs?[maxDraws * (maxDraftTokens + 1)];
    /// <summary>log p and entropy of each emitted token's row (<see cref="OutputStabilityMeter.Measure"/>), laid out as <see cref="Tokens"/>.</summary>
    public (double Logprob, double Entropy)[] Measures { get; } = new (double, double)[maxDraws * (maxDraftTokens + 1)];

    /// <summary>Draws for each item of <paramref name="items"/> (at most the job's most draws).</summary>
    public void Run(ComputePool pool, List<DrawItem> items, float[] logits)
    {
        if (_scratch.Length < pool.Threads) _scratch = Enumerable.Range(0, pool.Threads).Select(_ => new float[vocabulary]).ToArray();
        (_items, _logits, _next) = (items, logits, 0);
        if (items.Count == 1) Execute(0, 1);
        else pool.Run(this);
        (_items, _logits) = (null, []);
    }

    public override void Execute(int thread, int threads)
    {
        for (int i = Interlocked.Increment(ref _next) - 1; i < _items!.Count; i = Interlocked.Increment(ref _next) - 1)
        {
            var (sequence, row, drafts) = _items![i];
            var tokens = sequence.Tokens;
            int length = tokens.Count, at = i * _stride;
            int? stop = sequence.Request.Sampling.StopAtEndOfSequence ? endOfSequenceId : null;
            var rows = _logits.AsSpan(row * vocabulary, (drafts + 1) * vocabulary);
            // The verifier appends each emitted token to the history for the next draw's penalties; the output processor
            // appends them for good, with the stop checks, so the history is put back as it was.
            int count = DraftVerifier.Verify(sequence.Sampler, rows, vocabulary, tokens, sequence.Draft.AsSpan(0, drafts), stop, Tokens.AsSpan(at, drafts + 1));
            tokens.RemoveRange(length, tokens.Count - length);
            Counts[i] = count;
            for (int j = 0; j < count; j++)
            {
                var logits = rows.Slice(j * vocabulary, vocabulary);
                int token = Tokens[at + j];
                Measures[at + j] = OutputStabilityMeter.Measure(logits, token, _scratch[thread]);
                Logprobs[at + j] = sequence.Request.TopLogprobs >= 0 ? TokenLogprobs.Compute(logits, token, sequence.Request.TopLogprobs, _scratch[thread]) : null;
            }
        }
    }
}
