namespace Dclm.Eval.Scoring;

/// <summary>
/// What log-likelihood tasks need of a model: its tokenizer and the log-probability of continuations.
/// Implemented in process (<see cref="LocalScoringModel"/>, over <see cref="LogLikelihoodScorer"/>) and over
/// HTTP against any OpenAI-compatible completions endpoint (<see cref="RemoteScoringModel"/>, echo + logprobs).
/// </summary>
public interface IScoringModel
{
    /// <summary>Tokens one scored sequence may hold (context + continuation), the model's window as its runner sees it.</summary>
    int LongestSequence { get; }
    /// <summary>The end-of-sequence token, when known (the harness's prefix for an empty context).</summary>
    int? EndOfSequenceId { get; }
    /// <summary>Token ids of <paramref name="text"/>, with the tokenizer's special tokens when asked.</summary>
    int[] Encode(string text, bool addSpecialTokens = false);
    /// <summary>
    /// Scores each option's continuation given its context; contexts are cut from the left so each sequence holds at most
    /// <paramref name="longest"/> tokens. <paramref name="cancellation"/> stops the work within a forward pass (between layers).
    /// </summary>
    ContinuationScore[] Score(IReadOnlyList<ScoringOption> options, int longest, CancellationToken cancellation = default);
    /// <summary>Forward passes (or HTTP requests) that scored whole questions so far.</summary>
    long BatchedPasses { get; }
}

/// <summary>The in-process model: its tokenizer and the batched KV-sharing scorer.</summary>
public sealed class LocalScoringModel(Models.IDecoderModel model, Tokenizers.Tokenizer tokenizer, bool shareContext = true) : IScoringModel
{
    private readonly LogLikelihoodScorer _scorer = new(model, shareContext);

    /// <summary>The scorer (its pass counters).</summary>
    public LogLikelihoodScorer Scorer => _scorer;
    /// <inheritdoc />
    public int LongestSequence => model.Config.ContextLength;
    /// <inheritdoc />
    public int? EndOfSequenceId => tokenizer.EndOfSequenceId;
    /// <inheritdoc />
    public int[] Encode(string text, bool addSpecialTokens = false) => tokenizer.Encode(text, addSpecialTokens);
    /// <inheritdoc />
    public ContinuationScore[] Score(IReadOnlyList<ScoringOption> options, int longest, CancellationToken cancellation = default) =>
        _scorer.Score(options, longest, cancellation);
    /// <inheritdoc />
    public long BatchedPasses => _scorer.BatchedPasses;
}
