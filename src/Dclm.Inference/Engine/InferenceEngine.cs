using System.Collections.Concurrent;
using System.Diagnostics;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tokenizers;

namespace Dclm.Inference.Engine;

/// <summary>
/// Continuous batching over one model: requests join and leave between steps, and each step runs a single forward
/// pass over every scheduled sequence (prefill chunks and decode tokens together) on a paged KV cache with prefix
/// reuse. The loop runs on its own thread, and each step has three parts, as vLLM's engine core has:
/// schedule (<see cref="Scheduler"/>: what runs, from counts; admission, preemption, prefix matching),
/// execute (<see cref="ModelRunner"/>: the batch, one <see cref="IDecoderModel.Forward"/>, the draws),
/// update (<see cref="OutputProcessor"/>: advance, stream, stop, finish). With <see cref="EngineOptions.LookupNgram"/> or
/// <see cref="EngineOptions.DraftModel"/>, a <see cref="DraftProposer"/> first guesses each decoding sequence's next
/// tokens, and its step checks them (speculative decoding: the output is unchanged, docs/speculative-decoding.md).
/// In steady decode a step allocates nothing on the engine thread.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly IDecoderModel _model;
    private readonly AdapterSet? _adapters;
    private readonly Tokenizer? _tokenizer;
    private readonly KvCache _cache;
    private readonly Scheduler _scheduler;
    private readonly ModelRunner _runner;
    private readonly OutputProcessor _outputs;
    private readonly DraftProposer? _drafts;
    private readonly EngineMetrics _metrics;
    private readonly ConcurrentQueue<Sequence> _incoming = new();
    private readonly List<Sequence> _ending = [];
    private readonly ManualResetEventSlim _wake = new(false);
    // Cancelled by Dispose, so a long step (a 7B prefill) stops between layers instead of holding Dispose for seconds.
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private volatile bool _stopping;
    // Requests submitted and not yet admitted (nor ended), for the queue limit.
    private long _nextId, _queued;
    private volatile StepTrace? _trace;

    /// <summary>
    /// Starts the engine loop over <paramref name="model"/>; without a tokenizer, updates carry ids but no text. With
    /// <paramref name="adapters"/> (attached to <paramref name="model"/>: the CPU <see cref="DecoderModel"/> they wrap, or a
    /// device model serving them, <see cref="IAdapterRunner"/>), each request may name one of its adapters. <paramref name="model"/> may run anywhere (the GPU backend too): the engine only calls
    /// <see cref="IDecoderModel.Forward"/> and the block operations of the cache the model makes.
    /// </summary>
    public InferenceEngine(IDecoderModel model, Tokenizer? tokenizer, EngineOptions? options = null, AdapterSet? adapters = null)
    {
        if (adapters is not null && !adapters.IsAttachedTo(model))
            throw new NotSupportedException("the LoRA adapters are attached to another model than the one the engine runs (a device model serves them after UseAdapters)");
        _model = model;
        _adapters = adapters;
        _tokenizer = tokenizer;
        Options = (options ?? new EngineOptions()).Resolve(model.Config);
        int slots = Options.MaxRunningSequences + Options.PrefixCacheEntries;
        _cache = model.CreateCache(slots, Options.ContextLength, Options.BlockSize, Options.KvBlocks, Options.KvCacheType);
        _scheduler = new Scheduler(Options.MaxRunningSequences, Options.StepTokenBudget, new KvCacheLedger(_cache), slots, Options.PrefixCacheEntries);
        _drafts = CreateDraftProposer(Options, model.Config.VocabularySize);
        _runner = new ModelRunner(model, _cache, Options.StepTokenBudget, Options.MaxRunningSequences, adapters,
            _drafts?.MaxDraftTokens ?? 0, tokenizer?.EndOfSequenceId);
        _metrics = new EngineMetrics(_scheduler, _runner, _cache, () => _incoming.Count);
        _outputs = new OutputProcessor(_scheduler, _metrics, tokenizer?.EndOfSequenceId);
        _metrics.Publish();
        _thread = new Thread(Loop) { IsBackground = true, Name = "dclm-engine" };
        _thread.Start();
    }

    /// <summary>Prompt lookup shares one stateless source; a draft model needs a source (a KV cache) per running sequence.</summary>
    private static DraftProposer? CreateDraftProposer(EngineOptions options, int vocabularySize)
    {
        Func<Speculation.IDraftSource>? create = null;
        if (options.LookupNgram > 0)
        {
            var lookup = new Speculation.PromptLookupDraft(options.LookupNgram);
            create = () => lookup;
        }
        else if (options.DraftModel is { } draft)
            create = () => new Speculation.DraftModelSource(draft, vocabularySize, options.ContextLength);
        return create is null ? null : new DraftProposer(create, options.MaxDraftTokens, options.BlockSize, options.MaxRunningSequences);
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
    public EngineStatistics Statistics => _metrics.Read();

    /// <summary>Draft sources held by running sequences, and made since start (for tests); zeros without speculation.</summary>
    internal (int Held, int Created) DraftSources => _drafts is null ? (0, 0) : (_drafts.HeldSources, _drafts.CreatedSources);

    /// <summary>When set, the engine records each step's size and its thread's allocations there (for tests).</summary>
    internal StepTrace? Trace { get => _trace; set => _trace = value; }

    /// <summary>
    /// For tests: called on the engine thread before each step schedules, with the number of steps run so far. A test holds
    /// the engine at a known step by blocking here (until it has submitted or cancelled a request) instead of racing it.
    /// </summary>
    internal Action<long>? BeforeStep { get; set; }

    /// <summary>
    /// Checks a prompt and its options against the model and the engine's limits, once, and returns the trusted
    /// request; throws <see cref="RequestValidationException"/> naming the field at fault.
    /// </summary>
    public GenerationRequest CreateRequest(IReadOnlyList<int> prompt, SamplingOptions sampling, IReadOnlyList<int>? stopTokenIds = null, int topLogprobs = -1,
        bool promptLogprobs = false, Func<Constraints.ITokenConstraint>? constraint = null, int adapter = 0) =>
        GenerationRequest.Validate(_model.Config, ContextLength, prompt, sampling, stopTokenIds, topLogprobs, promptLogprobs, constraint,
            adapter, _adapters?.Count ?? 0);

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
        var sequence = new Sequence(Interlocked.Increment(ref _nextId), request, _model.Config.VocabularySize, _tokenizer, _drafts?.MaxDraftTokens ?? 0);
        var stream = new GenerationStream(sequence.Output, sequence.PromptLength);
        if (request.Sampling.MaxTokens == 0 && !request.PromptLogprobs)
        {
            Interlocked.Decrement(ref _queued);
            sequence.Output.Write(-1, [], null, null, FinishReason.Length, new GenerationUsage(sequence.PromptLength, 0, 0));
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
            while (_incoming.TryDequeue(out var sequence)) _scheduler.Add(sequence);
            DropCancelled();
            if (_scheduler.Running.Count == 0 && _scheduler.Waiting.Count == 0) { _drafts?.ReleaseAll(); _metrics.Publish(); _wake.Wait(); continue; }
            try
            {
                if (!Step()) _wake.Wait(10);
            }
            catch (OperationCanceledException) when (_stopping)
            {
                break; // Dispose cancelled the step: the sequences fail below as stopped
            }
            catch (Exception e)
            {
                // A failed step fails the sequences it ran; the engine keeps serving the rest.
                _ending.AddRange(_scheduler.Running);
                foreach (var sequence in _ending) Fail(sequence, e);
                _ending.Clear();
            }
            _metrics.Publish();
        }
        var stopped = new EngineBusyException("the engine stopped");
        _ending.AddRange(_scheduler.Running);
        _ending.AddRange(_scheduler.Waiting);
        while (_incoming.TryDequeue(out var sequence)) _ending.Add(sequence);
        foreach (var sequence in _ending) Fail(sequence, stopped);
    }

    /// <summary>One round of drafts (with speculation), schedule, execute and update; false when nothing could run.</summary>
    private bool Step()
    {
        BeforeStep?.Invoke(_runner.Steps);
        _drafts?.Propose(_scheduler.Running);
        var schedule = _scheduler.Schedule();
        if (schedule.FirstAdmissions > 0) Interlocked.Add(ref _queued, -schedule.FirstAdmissions);
        if (schedule.Chunks.Count == 0) return schedule.Preempted;
        long started = Stopwatch.GetTimestamp();
        var output = _runner.Execute(schedule, _stop.Token);
        _outputs.Process(schedule, output);
        _metrics.StepDone(started, Stopwatch.GetTimestamp(), output.Emitted);
        _trace?.Record(schedule.TokenCount, output.Draws, GC.GetAllocatedBytesForCurrentThread());
        return true;
    }

    private void Fail(Sequence sequence, Exception error)
    {
        if (!sequence.EverAdmitted) Interlocked.Decrement(ref _queued);
        sequence.EverAdmitted = true;
        _outputs.Fail(sequence, error);
    }

    private void DropCancelled()
    {
        // Indexed loops: a foreach over the read-only views would box an enumerator every round.
        for (int i = 0; i < _scheduler.Running.Count; i++) if (_scheduler.Running[i].IsCancelled) _ending.Add(_scheduler.Running[i]);
        for (int i = 0; i < _scheduler.Waiting.Count; i++) if (_scheduler.Waiting[i].IsCancelled) _ending.Add(_scheduler.Waiting[i]);
        if (_ending.Count == 0) return;
        foreach (var sequence in _ending) Fail(sequence, new OperationCanceledException("the client cancelled the request"));
        _ending.Clear();
    }

    /// <summary>Stops the loop; requests still queued or running fail with <see cref="EngineBusyException"/>.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _stop.Cancel();
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
        _stop.Dispose();
    }
}
