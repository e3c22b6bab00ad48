using Dclm.Models;

namespace Dclm.Eval.Scoring;

/// <summary>One option to score: the model reads <see cref="Context"/>, then <see cref="Continuation"/>, whose tokens are scored.</summary>
public readonly record struct ScoringOption(int[] Context, int[] Continuation);

/// <summary>How likely a continuation was. <see cref="LogProbability"/> is Σ log p(token | everything before it).</summary>
public readonly record struct ContinuationScore(double LogProbability, int Tokens, bool GreedyMatch)
{
    /// <summary>Mean per-token cross-entropy in nats (llm-foundry's multiple-choice criterion; lower is better).</summary>
    public double MeanCrossEntropy => -LogProbability / Tokens;
}

/// <summary>
/// Scores the options of one question together. The token prefix all options share is computed once in
/// slot 0 of a KV cache and copied into one slot per option; then every option's remaining context and
/// its continuation run in a single <see cref="ForwardBatch"/> that returns a logits row for each
/// continuation token. So a question costs one prefill of the shared context and one batched pass.
/// Contexts are cut from the left so context + continuation fit the model's window, as llm-foundry's <c>trim_context</c> does.
/// </summary>
public sealed class LogLikelihoodScorer
{
    /// <summary>Tokens per prefill step; bounds activation memory for long contexts.</summary>
    public const int PrefillChunk = 512;

    private readonly IDecoderModel _model;
    private KvCache? _cache;
    private float[] _logits = [];

    /// <param name="model">The model to score with.</param>
    /// <param name="shareContext">
    /// True (the default) shares each question's common prefix across its options; false runs every
    /// option as its own full forward pass from position 0 (the slow reference, for checks and comparisons).
    /// </param>
    public LogLikelihoodScorer(IDecoderModel model, bool shareContext = true)
    {
        _model = model;
        ShareContext = shareContext;
    }

    /// <summary>Whether options share their common prefix (one prefill and one batched pass per question).</summary>
    public bool ShareContext { get; }

    /// <summary>Batched passes run so far: one per <see cref="Score(IReadOnlyList{ScoringOption}, int, CancellationToken)"/> call, or one per option without context sharing.</summary>
    public long BatchedPasses { get; private set; }
    /// <summary>Prefill steps run so far for shared prefixes.</summary>
    public long PrefillSteps { get; private set; }

    /// <summary>Scores each option's continuation given its context (llm-foundry's cut: context + continuation fit the window).</summary>
    public ContinuationScore[] Score(IReadOnlyList<ScoringOption> options) => Score(options, _model.Config.ContextLength);

    /// <summary>
    /// Scores each option's continuation given its context, cutting contexts from the left so context +
    /// continuation hold at most <paramref name="longest"/> tokens: the window for llm-foundry, the window
    /// + 1 for lm-evaluation-harness (its last token is scored, never fed), at most window + 1.
    /// <paramref name="cancellation"/> stops it between layers of a forward pass.
    /// </summary>
    public ContinuationScore[] Score(IReadOnlyList<ScoringOption> options, int longest, CancellationToken cancellation = default)
    {
        if (options.Count == 0) return [];
        if (longest < 2 || longest > _model.Config.ContextLength + 1) throw new ArgumentOutOfRangeException(nameof(longest), $"a scored sequence of {longest} tokens does not fit the model's context of {_model.Config.ContextLength} (+1)");
        var trimmed = new ScoringOption[options.Count];
        for (int j = 0; j < options.Count; j++) trimmed[j] = Trim(options[j], longest);
        return ShareContext ? ScoreGroup(trimmed, sharePrefix: true, cancellation)
            : trimmed.SelectMany(o => ScoreGroup([o], sharePrefix: false, cancellation)).ToArray();
    }

    private ContinuationScore[] ScoreGroup(ScoringOption[] trimmed, bool sharePrefix, CancellationToken cancellation)
    {
        // Shared prefix: the common leading tokens of all contexts, leaving each option at least one
        // context token to feed, because that token's logits predict the continuation's first token.
        int shared = trimmed.Min(o => o.Context.Length) - 1;
        for (int j = 1; j < trimmed.Length; j++) shared = Math.Min(shared, CommonPrefix(trimmed[0].Context, trimmed[j].Context));
        if (!sharePrefix) shared = 0;
        int capacity = trimmed.Max(o => o.Context.Length + o.Continuation.Length - 1);
        var cache = Cache(trimmed.Length, capacity);
        int vocabulary = _model.Config.VocabularySize;

        for (int slot = 0; slot < trimmed.Length; slot++) cache.Truncate(slot, 0);
        EnsureLogits(vocabulary);
        for (int start = 0; start < shared; start += PrefillChunk)
        {
            int count = Math.Min(PrefillChunk, shared - start);
            _model.Forward(ForwardBatch.Sequence(trimmed[0].Context.AsSpan(start, count), start, slot: 0), cache, _logits.AsSpan(0, vocabulary), cancellation);
            PrefillSteps++;
        }
        for (int slot = 1; slot < trimmed.Length; slot++) cache.CopyPrefix(0, slot, shared);

        var batch = BuildBatch(trimmed, shared);
        EnsureLogits((long)batch.LogitRows.Length * vocabulary);
        _model.Forward(batch, cache, _logits.AsSpan(0, batch.LogitRows.Length * vocabulary), cancellation);
        BatchedPasses++;

        var scores = new ContinuationScore[trimmed.Length];
        int row = 0;
        for (int j = 0; j < trimmed.Length; j++)
        {
            var continuation = trimmed[j].Continuation;
            double sum = 0;
            bool greedy = true;
            foreach (int target in continuation)
            {
                var logits = _logits.AsSpan(row++ * vocabulary, vocabulary);
                sum += LogSoftmax.At(logits, target, out int argmax);
                greedy &= argmax == target;
            }
            scores[j] = new ContinuationScore(sum, continuation.Length, greedy);
        }
        return scores;
    }

    /// <summary>Each option's unshared context tokens then all but its last continuation token, in its own slot.</summary>
    private static ForwardBatch BuildBatch(ScoringOption[] options, int shared)
    {
        var tokens = new List<int>();
        var positions = new List<int>();
        var slots = new List<int>();
        var rows = new List<int>();
        for (int j = 0; j < options.Length; j++)
        {
            var (context, continuation) = options[j];
            int length = context.Length + continuation.Length - 1;
            for (int p = shared; p < length; p++)
            {
                // Position p predicts token p + 1; rows from the last context token on predict the continuation.
                if (p >= context.Length - 1) rows.Add(tokens.Count);
                tokens.Add(p < context.Length ? context[p] : continuation[p - context.Length]);
                positions.Add(p);
                slots.Add(j);
            }
        }
        return new ForwardBatch { Tokens = tokens.ToArray(), Positions = positions.ToArray(), Slots = slots.ToArray(), LogitRows = rows.ToArray() };
    }

    private static ScoringOption Trim(ScoringOption option, int window)
    {
        if (option.Continuation.Length == 0) throw new ArgumentException("a continuation must hold at least one token");
        if (option.Continuation.Length >= window) throw new ArgumentException($"a continuation of {option.Continuation.Length} tokens does not fit a scored sequence of {window}");
        if (option.Context.Length == 0) throw new ArgumentException("a context must hold at least one token");
        int keep = window - option.Continuation.Length;
        return option.Context.Length <= keep ? option : option with { Context = option.Context[^keep..] };
    }

    private static int CommonPrefix(int[] a, int[] b)
    {
        int n = Math.Min(a.Length, b.Length), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    private KvCache Cache(int slots, int capacity)
    {
        if (_cache is null || _cache.Slots < slots || _cache.Capacity < capacity)
        {
            // Grow in steps so a task's longer questions do not reallocate the cache every time.
            int newCapacity = Math.Min(_model.Config.ContextLength, Math.Max(capacity, Math.Max(_cache?.Capacity ?? 0, 64) * 2));
            newCapacity = Math.Max(newCapacity, capacity);
            _cache = _model.CreateCache(Math.Max(slots, _cache?.Slots ?? 0), newCapacity);
        }
        return _cache;
    }

    private void EnsureLogits(long count)
    {
        if (count > Array.MaxLength) throw new ArgumentException($"{count} logits do not fit one buffer; the options are too long");
        if (_logits.Length < count) _logits = new float[count];
    }
}
