using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tokenizers;

namespace Dclm.Inference.Engine;

/// <summary>
/// Continuous batching over one model: requests join and leave between steps, and each step runs a
/// single forward pass over every scheduled sequence (prefill chunks and decode tokens together) on
/// a paged KV cache with prefix reuse. The loop runs on its own thread; each step is
/// schedule (<see cref="Scheduler"/>, counts only), execute (one <see cref="DecoderModel.Forward"/>),
/// update (per-sequence sampling, streaming decode, stop strings, finishing).
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly DecoderModel _model;
    private readonly AdapterSet? _adapters;
    private readonly Tokenizer? _tokenizer;
    private readonly KvCache _cache;
    private readonly KvCacheLedger _ledger;
    private readonly Scheduler _scheduler;
    private readonly PrefixCache _prefix;
    private readonly Stack<int> _freeSlots;
    private readonly List<Sequence> _running = [];
    private readonly List<Sequence> _waiting = [];
    private readonly ConcurrentQueue<Sequence> _incoming = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    private float[] _logits;
    private readonly float[] _logprobScratch;
    private readonly SamplingJob _sampling;
    private readonly List<(Sequence Sequence, int Row)> _drawing = [];
    private readonly ThroughputWindow _throughput = new(TimeSpan.FromSeconds(5));
    private volatile bool _stopping;
    private long _nextId, _queued, _hits, _prefill, _generated, _preemptions, _steps;
    private volatile EngineStatistics _statistics;

    /// <summary>
    /// Starts the engine loop over <paramref name="model"/>; without a tokenizer, updates carry ids but no text. With
    /// <paramref name="adapters"/> (attached to <paramref name="model"/>), each request may name one of its adapters.
    /// </summary>
    public InferenceEngine(DecoderModel model, Tokenizer? tokenizer, EngineOptions? options = null, AdapterSet? adapters = null)
    {
        _model = model;
        _adapters = adapters;
        _tokenizer = tokenizer;
        Options = (options ?? new EngineOptions()).Resolve(model.Config);
        int slots = Options.MaxRunningSequences + Options.PrefixCacheEntries;
        _cache = new KvCache(model.Config, slots, Options.ContextLength, Options.BlockSize, Options.KvBlocks, Options.KvCacheType);
        _ledger = new KvCacheLedger(_cache);
        _scheduler = new Scheduler(Options.MaxRunningSequences, Options.StepTokenBudget);
        _prefix = new PrefixCache(Options.PrefixCacheEntries);
        _freeSlots = new Stack<int>(Enumerable.Range(0, slots).Reverse());
        _logits = new float[Options.MaxRunningSequences * model.Config.VocabularySize];
        _logprobScratch = new float[model.Config.VocabularySize];
        _sampling = new SamplingJob(model.Config.VocabularySize);
        _statistics = new EngineStatistics { TotalBlocks = _cache.BlockCount };
        _thread = new Thread(Loop) { IsBackground = true, Name = "dclm-engine" };
        _thread.Start();
    }

    /// <summary>The options in force, with model-dependent defaults filled in.</summary>
    public EngineOptions Options { get; }
    /// <summary>Most positions (prompt plus generated tokens) of one sequence.</summary>
    public int ContextLength => Options.ContextLength;
    /// <summary>The model's configuration.</summary>
    public ModelConfig ModelConfig => _model.Config;
    /// <summary>Bytes the KV pool holds (all its blocks, in use or not).</summary>
    public long KvCacheBytes => _cache.ByteSize;
    /// <summary>Counters and gauges as of the last step.</summary>
    public EngineStatistics Statistics => _statistics;

    /// <summary>
    /// Checks a prompt and its sampling options against the engine's limits and returns the trusted
    /// request; throws <see cref="RequestValidationException"/> naming the field at fault.
    /// </summary>
    public GenerationRequest CreateRequest(IReadOnlyList<int> prompt, SamplingOptions sampling, IReadOnlyList<int>? stopTokenIds = null, int topLogprobs = -1,
        bool promptLogprobs = false, Func<Constraints.ITokenConstraint>? constraint = null, int adapter = 0)
    {
        if (adapter < 0 || adapter > (_adapters?.Count ?? 0))
            throw new RequestValidationException("model", $"there is no adapter {adapter} ({_adapters?.Count ?? 0} loaded)");
        if (topLogprobs < -1 || topLogprobs > TokenLogprobs.MaxTop)
            throw new RequestValidationException("top_logprobs", $"top_logprobs {topLogprobs} must be in [0, {TokenLogprobs.MaxTop}]");
        if (promptLogprobs && topLogprobs < 0)
            throw new RequestValidationException("logprobs", "the prompt's log-probabilities need top_logprobs of 0 or more");
        if (prompt.Count == 0) throw new RequestValidationException("prompt", "the prompt must hold at least one token");
        foreach (int id in prompt)
            if ((uint)id >= (uint)_model.Config.VocabularySize)
                throw new RequestValidationException("prompt", $"token id {id} is outside the vocabulary of {_model.Config.VocabularySize}");
        try { sampling.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new RequestValidationException("sampling", e.ParamName ?? e.Message); }
        foreach (int id in sampling.LogitBias.Keys)
            if ((uint)id >= (uint)_model.Config.VocabularySize)
                throw new RequestValidationException("logit_bias", $"token id {id} is outside the vocabulary of {_model.Config.VocabularySize}");
        if ((long)prompt.Count + sampling.MaxTokens > ContextLength)
            throw new RequestValidationException("max_tokens", $"the prompt's {prompt.Count} tokens plus max_tokens {sampling.MaxTokens} exceed the context of {ContextLength} tokens");
        return new GenerationRequest(prompt.ToArray(), sampling, stopTokenIds?.ToArray() ?? [], topLogprobs, promptLogprobs, constraint, adapter);
    }

    /// <summary>
    /// Queues a request and returns its update stream; throws <see cref="EngineBusyException"/> when the
    /// waiting queue is full. Cancelling <paramref name="cancellation"/> ends the sequence and frees its slot.
    /// </summary>
    public GenerationStream Submit(GenerationRequest request, CancellationToken cancellation = default)
    {
        if (_stopping) throw new EngineBusyException("the engine is stopping");
        if (Interlocked.Increment(ref _queued) > Options.MaxWaitingRequests)
        {
            Interlocked.Decrement(ref _queued);
            throw new EngineBusyException($"the queue is full ({Options.MaxWaitingRequests} requests waiting)");
        }
        var sequence = new Sequence(Interlocked.Increment(ref _nextId), request, _model.Config.VocabularySize, _tokenizer);
        var stream = new GenerationStream(sequence.Output.Reader, sequence.PromptLength);
        if (request.Sampling.MaxTokens == 0 && !request.PromptLogprobs)
        {
            Interlocked.Decrement(ref _queued);
            sequence.Output.Writer.TryWrite(new GenerationUpdate(-1, "", FinishReason.Length, new GenerationUsage(sequence.PromptLength, 0, 0)));
            sequence.Output.Writer.TryComplete();
            return stream;
        }
        if (cancellation.CanBeCanceled)
            sequence.Registration = cancellation.Register(() => { sequence.Cancel(); _wake.Set(); });
        _incoming.Enqueue(sequence);
        _wake.Set();
        return stream;
    }

    private void Loop()
    {
        while (!_stopping)
        {
            _wake.Reset();
            while (_incoming.TryDequeue(out var sequence)) _waiting.Add(sequence);
            DropCancelled();
            if (_running.Count == 0 && _waiting.Count == 0) { Publish(); _wake.Wait(); continue; }
            try
            {
                if (!Step()) _wake.Wait(10);
            }
            catch (Exception e)
            {
                // A failed step fails the sequences it ran; the engine keeps serving the rest.
                foreach (var sequence in _running.ToArray()) Fail(sequence, e);
            }
            Publish();
        }
        var stopped = new EngineBusyException("the engine stopped");
        foreach (var sequence in _running.Concat(_waiting).Concat(_incoming).ToArray()) Fail(sequence, stopped);
    }

    /// <summary>One schedule, execute, update round; false when nothing could run.</summary>
    private bool Step()
    {
        var plan = Schedule();
        foreach (var sequence in plan.Preempted) Preempt(sequence);
        foreach (var sequence in plan.Admitted) Admit(sequence);
        if (plan.Chunks.Count == 0) return plan.Preempted.Count > 0;

        var batch = BuildBatch(plan);
        int vocabulary = _model.Config.VocabularySize, row = 0, sampled = 0;
        // Prompt log-probabilities ask for a row per prompt position, up to the step's token budget.
        if ((long)batch.LogitRows.Length * vocabulary > _logits.Length) _logits = new float[batch.LogitRows.Length * vocabulary];
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_adapters is not null)
            foreach (var (sequence, _) in plan.Chunks) _adapters.Assign(sequence.Slot, sequence.Request.Adapter);
        _model.Forward(batch, _cache, _logits);
        _steps++;
        _drawing.Clear();
        foreach (var (sequence, count) in plan.Chunks)
        {
            // Rows come in batch order: each chunk's prompt positions that score the next prompt token, then its last row.
            for (int position = sequence.Computed; position < sequence.Computed + count; position++)
                if (sequence.NeedsPromptLogits(position))
                    sequence.PromptEntries!.Add(TokenLogprobs.Compute(_logits.AsSpan(row++ * vocabulary, vocabulary), sequence.Tokens[position + 1],
                        sequence.Request.TopLogprobs, _logprobScratch));
            sequence.Computed += count;
            _prefill += sequence.Computed == sequence.Tokens.Count ? count - 1 : count;
            if (sequence.Computed != sequence.Tokens.Count) continue;
            int at = row++;
            // Scoring only (echo with logprobs and no budget): the prompt has run, nothing is drawn.
            if (sequence.Request.Sampling.MaxTokens == 0) Finish(sequence, FinishReason.Length);
            else _drawing.Add((sequence, at));
        }
        if (_drawing.Count > 0) _sampling.Run(_model.Pool, _drawing, _logits);
        for (int i = 0; i < _drawing.Count; i++)
        {
            _generated++;
            sampled++;
            Advance(_drawing[i].Sequence, _sampling.Tokens[i], _sampling.Logprobs[i]);
        }
        _throughput.Add(started, System.Diagnostics.Stopwatch.GetTimestamp(), sampled);
        return true;
    }

    private SchedulePlan Schedule()
    {
        while (true)
        {
            // Only as many sequences as can be admitted, not counting deferred ones (they let those behind
            // them in): prefix matching stays off the rest, and the rest carry no match from an earlier step.
            int admissible = Math.Max(0, Options.MaxRunningSequences - _running.Count);
            for (int i = 0; i < _waiting.Count; i++)
            {
                var sequence = _waiting[i];
                if (admissible == 0)
                {
                    (sequence.Match, sequence.Deferred) = (null, false);
                    continue;
                }
                // A prompt whose every position must be scored is computed in full.
                bool scored = sequence.Request.PromptLogprobs;
                sequence.Match = scored ? null : FindPrefix(sequence.Tokens, sequence.Request.Adapter);
                sequence.Deferred = !scored && WillShare(sequence, i);
                if (!sequence.Deferred) admissible--;
            }
            var plan = _scheduler.Schedule(_running, _waiting, _ledger, _freeSlots.Count, _prefix.Count > 0);
            if (plan.NeedsEviction && _prefix.TryEvict(out int slot)) { Release(slot); continue; }
            return plan;
        }
    }

    /// <summary>
    /// The longest reusable start of <paramref name="tokens"/>: a finished sequence's in the prefix cache,
    /// or whole KV blocks a running sequence has already computed (two requests with the same system
    /// prompt, n choices of one prompt). Only whole blocks are taken from a running sequence, so neither
    /// side later writes into a block the other holds and the scheduler's block counts stay exact. Keys and
    /// values depend on the adapter, so only a sequence on the same <paramref name="adapter"/> is a match.
    /// </summary>
    private PrefixMatch? FindPrefix(List<int> tokens, int adapter)
    {
        var best = _prefix.Find(tokens, adapter);
        foreach (var running in _running)
        {
            if (running.Request.Adapter != adapter) continue;
            int length = Math.Min(SharedBlocks(running.Tokens, tokens), running.Computed - running.Computed % _cache.BlockSize);
            if (length > (best?.Length ?? 0)) best = new PrefixMatch(running.Slot, length);
        }
        return best;
    }

    /// <summary>
    /// True when a sequence still prefilling, or one waiting ahead of <paramref name="sequence"/> and not
    /// itself deferred, shares more whole blocks of prompt with it than it can reuse now.
    /// </summary>
    private bool WillShare(Sequence sequence, int index)
    {
        int have = sequence.Match?.Length ?? 0;
        int adapter = sequence.Request.Adapter;
        foreach (var running in _running)
            if (running.Request.Adapter == adapter && running.Computed < running.PromptLength && SharedBlocks(running.Tokens, sequence.Tokens) > have) return true;
        for (int i = 0; i < index; i++)
            if (!_waiting[i].Deferred && _waiting[i].Request.Adapter == adapter && SharedBlocks(_waiting[i].Tokens, sequence.Tokens) > have) return true;
        return false;
    }

    /// <summary>Positions in whole blocks that start both lists alike, short of the last token of <paramref name="prompt"/> (it must run for logits).</summary>
    private int SharedBlocks(List<int> other, List<int> prompt)
    {
        int most = Math.Min(other.Count, prompt.Count - 1), length = 0;
        while (length < most && other[length] == prompt[length]) length++;
        return length - length % _cache.BlockSize;
    }

    private static ForwardBatch BuildBatch(SchedulePlan plan)
    {
        var tokens = new int[plan.TokenCount];
        var positions = new int[plan.TokenCount];
        var slots = new int[plan.TokenCount];
        var rows = new List<int>(plan.Chunks.Count);
        int at = 0;
        foreach (var (sequence, count) in plan.Chunks)
        {
            for (int i = 0; i < count; i++, at++)
            {
                tokens[at] = sequence.Tokens[sequence.Computed + i];
                positions[at] = sequence.Computed + i;
                slots[at] = sequence.Slot;
                if (sequence.NeedsPromptLogits(sequence.Computed + i)) rows.Add(at);
            }
            if (sequence.Computed + count == sequence.Tokens.Count) rows.Add(at - 1);
        }
        return new ForwardBatch { Tokens = tokens, Positions = positions, Slots = slots, LogitRows = rows.ToArray() };
    }

    private void Admit(Sequence sequence)
    {
        _waiting.Remove(sequence);
        int slot = _freeSlots.Pop();
        sequence.Slot = slot;
        int reuse = sequence.Match?.Length ?? 0;
        if (sequence.Match is { } match) _cache.CopyPrefix(match.Slot, slot, reuse);
        sequence.Computed = reuse;
        if (!sequence.EverAdmitted)
        {
            sequence.EverAdmitted = true;
            sequence.CachedTokens = reuse;
            _hits += reuse;
            Interlocked.Decrement(ref _queued);
        }
        InsertById(_running, sequence);
    }

    private void Preempt(Sequence sequence)
    {
        _running.Remove(sequence);
        Release(sequence.Slot);
        sequence.Slot = -1;
        sequence.Computed = 0;
        InsertById(_waiting, sequence);
        _preemptions++;
    }

    /// <summary>Appends the drawn token to the sequence and streams its text, or finishes the sequence.</summary>
    private void Advance(Sequence sequence, int next, TokenLogprobs? logprobs)
    {
        var options = sequence.Request.Sampling;
        if ((options.StopAtEndOfSequence && next == _tokenizer?.EndOfSequenceId) || sequence.Request.StopTokenIds.Contains(next))
        {
            Finish(sequence, FinishReason.Stop);
            return;
        }
        sequence.Tokens.Add(next);
        string text = sequence.Decoder is null ? "" : sequence.Stops.Push(sequence.Decoder.Append(next));
        sequence.Output.Writer.TryWrite(new GenerationUpdate(next, text, FinishReason.None, null, logprobs, sequence.TakePromptEntries()));
        if (sequence.Stops.Stopped) Finish(sequence, FinishReason.Stop);
        else if (sequence.Generated >= options.MaxTokens) Finish(sequence, FinishReason.Length);
    }

    private void Finish(Sequence sequence, FinishReason reason)
    {
        string rest = sequence.Stops.Stopped || sequence.Decoder is null ? "" : sequence.Stops.Push(sequence.Decoder.Flush()) + sequence.Stops.Flush();
        var usage = new GenerationUsage(sequence.PromptLength, sequence.Generated, sequence.CachedTokens);
        // Statistics first, so a caller that reads them after its final update sees its own request counted.
        Publish();
        sequence.Output.Writer.TryWrite(new GenerationUpdate(-1, rest, reason, usage, null, sequence.TakePromptEntries()));
        sequence.Output.Writer.TryComplete();
        sequence.Registration.Dispose();
        sequence.Sampler.Dispose();
        _running.Remove(sequence);
        // The slot's first Computed tokens stay valid: keep them for the next prompt that starts the same way.
        var kept = sequence.Tokens.GetRange(0, sequence.Computed).ToArray();
        foreach (int slot in _prefix.Add(sequence.Slot, kept, sequence.Request.Adapter)) Release(slot);
        sequence.Slot = -1;
    }

    private void Fail(Sequence sequence, Exception error)
    {
        sequence.Output.Writer.TryComplete(error is OperationCanceledException or EngineBusyException ? error : new InvalidOperationException($"generation failed: {error.Message}", error));
        sequence.Registration.Dispose();
        sequence.Sampler.Dispose();
        if (!sequence.EverAdmitted) Interlocked.Decrement(ref _queued);
        _waiting.Remove(sequence);
        if (_running.Remove(sequence) && sequence.Slot >= 0) Release(sequence.Slot);
        sequence.Slot = -1;
        sequence.EverAdmitted = true;
    }

    private void DropCancelled()
    {
        foreach (var sequence in _running.Concat(_waiting).Where(s => s.IsCancelled).ToArray())
            Fail(sequence, new OperationCanceledException("the client cancelled the request"));
    }

    private void Release(int slot)
    {
        _cache.Free(slot);
        _freeSlots.Push(slot);
    }

    private static void InsertById(List<Sequence> list, Sequence sequence)
    {
        int at = list.Count;
        while (at > 0 && list[at - 1].Id > sequence.Id) at--;
        list.Insert(at, sequence);
    }

    private void Publish() => _statistics = new EngineStatistics
    {
        WaitingSequences = _waiting.Count + _incoming.Count,
        RunningSequences = _running.Count,
        UsedBlocks = _cache.UsedBlocks,
        TotalBlocks = _cache.BlockCount,
        PrefixCacheEntries = _prefix.Count,
        PrefixCacheHitTokens = _hits,
        PrefillTokens = _prefill,
        GeneratedTokens = _generated,
        Preemptions = _preemptions,
        Steps = _steps,
        TokensPerSecond = _throughput.Rate(System.Diagnostics.Stopwatch.GetTimestamp()),
    };

    /// <summary>Stops the loop; requests still queued or running fail with <see cref="EngineBusyException"/>.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }
}
