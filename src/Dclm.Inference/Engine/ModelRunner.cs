using Dclm.Models;
using Dclm.Models.Adapters;

namespace Dclm.Inference.Engine;

/// <summary>
/// Executes what the scheduler planned: fills one preallocated <see cref="ForwardBatch"/> from the chunks (token,
/// position and slot of every token; a logits row for each prompt position still to score and for each chunk that
/// reaches its sequence's end, and one more for each draft token a decode carries), runs one <see cref="IDecoderModel.Forward"/>
/// over it, and draws each such chunk's next token (or tokens, when a draft is right) on the compute pool. With LoRA
/// adapters, each chunk's slot is assigned its request's adapter before the forward, so one step mixes adapters and the
/// bare base. It changes nothing of a sequence but its sampler's state (the verifier's additions to the history are
/// undone before it returns); the output processor applies its results. Nothing is allocated per step (the logits
/// buffer grows once if prompt log-probabilities or drafts need more rows).
/// </summary>
internal sealed class ModelRunner
{
    private readonly IDecoderModel _model;
    private readonly KvCache _cache;
    private readonly AdapterSet? _adapters;
    private readonly int _vocabulary;
    private readonly ForwardBatch _batch;
    // (rows, vocab): the rows the batch asks for, in its order.
    private float[] _logits;
    private readonly float[] _logprobScratch;
    private readonly SamplingJob _sampling;
    private readonly List<DrawItem> _drawing;
    private readonly RunnerOutput _output;

    /// <param name="model">The model every step runs.</param>
    /// <param name="cache">The KV pool the scheduler's slots are in.</param>
    /// <param name="tokenBudget">Most tokens one step runs (the batch's capacity, and its most logit rows).</param>
    /// <param name="maxRunning">Most sequences in one step (so most chunks and draws).</param>
    /// <param name="adapters">The LoRA adapters attached to <paramref name="model"/>, or null when it serves none.</param>
    /// <param name="maxDraftTokens">Most draft tokens a sequence's step checks (0 without speculation).</param>
    /// <param name="endOfSequenceId">The token that ends a sequence (a draft is not checked past it), or null.</param>
    public ModelRunner(IDecoderModel model, KvCache cache, int tokenBudget, int maxRunning, AdapterSet? adapters = null,
        int maxDraftTokens = 0, int? endOfSequenceId = null)
    {
        (_model, _cache, _adapters, _vocabulary) = (model, cache, adapters, model.Config.VocabularySize);
        _batch = ForwardBatch.WithCapacity(tokenBudget, tokenBudget);
        _logits = new float[maxRunning * _vocabulary];
        _logprobScratch = new float[_vocabulary];
        _sampling = new SamplingJob(_vocabulary, maxRunning, maxDraftTokens, endOfSequenceId);
        _drawing = new List<DrawItem>(maxRunning);
        _output = new RunnerOutput(maxRunning, _sampling);
    }

    /// <summary>Steps run so far.</summary>
    public long Steps { get; private set; }

    /// <summary>
    /// Runs <paramref name="schedule"/>'s chunks as one forward step and draws; the output is reused by the next call.
    /// <paramref name="cancellation"/> (the engine stopping) stops the step between layers, with the cache as it was.
    /// </summary>
    public RunnerOutput Execute(SchedulerOutput schedule, CancellationToken cancellation = default)
    {
        BuildBatch(schedule);
        int rows = _batch.LogitRowCount;
        if ((long)rows * _vocabulary > _logits.Length) _logits = new float[rows * _vocabulary];
        if (_adapters is not null)
            for (int c = 0; c < schedule.Chunks.Count; c++) _adapters.Assign(schedule.Chunks[c].Sequence.Slot, schedule.Chunks[c].Sequence.Request.Adapter);
        _model.Forward(_batch, _cache, _logits, cancellation);
        Steps++;
        _output.Clear(schedule.Chunks.Count);
        _drawing.Clear();
        int row = 0;
        for (int c = 0; c < schedule.Chunks.Count; c++)
        {
            var (sequence, count, drafts) = schedule.Chunks[c];
            ref var result = ref _output.Chunks[c];
            result.PromptStart = _output.PromptLogprobs.Count;
            // Rows come in batch order: each chunk's prompt positions that score the next prompt token, then its last row.
            for (int position = sequence.Computed; position < sequence.Computed + count; position++)
                if (sequence.NeedsPromptLogits(position))
                    _output.PromptLogprobs.Add(TokenLogprobs.Compute(Row(row++), sequence.Tokens[position + 1], sequence.Request.TopLogprobs, _logprobScratch));
            result.PromptCount = _output.PromptLogprobs.Count - result.PromptStart;
            if (!Draws(sequence, count, drafts)) continue;
            _drawing.Add(new DrawItem(sequence, row, drafts));
            row += drafts + 1;
        }
        if (_drawing.Count > 0) _sampling.Run(_model.Pool, _drawing, _logits);
        for (int i = 0, c = 0; i < _drawing.Count; i++, c++)
        {
            while (schedule.Chunks[c].Sequence != _drawing[i].Sequence) c++;
            _output.Chunks[c].Draw = i;
            _output.Emitted += _sampling.Counts[i];
        }
        _output.Draws = _drawing.Count;
        return _output;
    }

    /// <summary>A chunk that runs its sequence's last uncomputed token draws the next one, unless the request only scores its prompt.</summary>
    private static bool Draws(Sequence sequence, int count, int drafts) =>
        sequence.Computed + count - drafts == sequence.Tokens.Count && sequence.Request.Sampling.MaxTokens > 0;

    private ReadOnlySpan<float> Row(int row) => _logits.AsSpan(row * _vocabulary, _vocabulary);

    private void BuildBatch(SchedulerOutput schedule)
    {
        int at = 0, rows = 0;
        for (int c = 0; c < schedule.Chunks.Count; c++)
        {
            var (sequence, count, drafts) = schedule.Chunks[c];
            int real = count - drafts;
            for (int i = 0; i < count; i++, at++)
            {
                int position = sequence.Computed + i;
                _batch.Tokens[at] = i < real ? sequence.Tokens[position] : sequence.Draft[i - real];
                _batch.Positions[at] = position;
                _batch.Slots[at] = sequence.Slot;
                if (sequence.NeedsPromptLogits(position)) _batch.LogitRows[rows++] = at;
            }
            // The last real token's row and each draft token's: row j scores the draft's token j.
            if (Draws(sequence, count, drafts))
                for (int i = drafts; i >= 0; i--) _batch.LogitRows[rows++] = at - 1 - i;
        }
        _batch.Count = at;
        _batch.LogitRowCount = rows;
    }
}

/// <summary>What one step of the <see cref="ModelRunner"/> produced, per chunk of the schedule; one instance, refilled every step.</summary>
internal sealed class RunnerOutput(int maxChunks, SamplingJob draws)
{
    /// <summary>Results by chunk index (the first <see cref="Count"/>).</summary>
    public ChunkResult[] Chunks { get; } = new ChunkResult[maxChunks];
    /// <summary>Chunks in the step.</summary>
    public int Count { get; private set; }
    /// <summary>The prompt log-probabilities computed this step, chunk after chunk (see <see cref="ChunkResult.PromptStart"/>).</summary>
    public List<TokenLogprobs> PromptLogprobs { get; } = [];
    /// <summary>Sequences that drew this step.</summary>
    public int Draws { get; set; }
    /// <summary>Tokens they emitted (more than <see cref="Draws"/> when drafts were right).</summary>
    public int Emitted { get; set; }

    /// <summary>The tokens chunk <paramref name="chunk"/> emitted, in order (empty when it drew none).</summary>
    public ReadOnlySpan<int> Tokens(int chunk) =>
        Chunks[chunk].Draw < 0 ? [] : draws.Tokens.AsSpan(Chunks[chunk].Draw * draws.Stride, draws.Counts[Chunks[chunk].Draw]);

    /// <summary>Log-probabilities of chunk <paramref name="chunk"/>'s <paramref name="index"/>th emitted token, when asked for.</summary>
    public TokenLogprobs? Logprobs(int chunk, int index) => draws.Logprobs[Chunks[chunk].Draw * draws.Stride + index];

    /// <summary>log p and entropy of chunk <paramref name="chunk"/>'s <paramref name="index"/>th emitted token.</summary>
    public (double Logprob, double Entropy) Measure(int chunk, int index) => draws.Measures[Chunks[chunk].Draw * draws.Stride + index];

    public void Clear(int chunks)
    {
        Array.Clear(Chunks, 0, Count);
        Count = chunks;
        for (int c = 0; c < chunks; c++) Chunks[c].Draw = -1;
        PromptLogprobs.Clear();
        Draws = Emitted = 0;
    }
}

/// <summary>One chunk's results: which draw of the step is its own (−1 for none; see <see cref="RunnerOutput.Tokens"/>), and its prompt entries.</summary>
internal struct ChunkResult
{
    public int Draw;
    /// <summary>Where this chunk's prompt log-probabilities start in <see cref="RunnerOutput.PromptLogprobs"/>, and how many.</summary>
    public int PromptStart, PromptCount;
}
