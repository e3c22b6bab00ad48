using Dclm.Tokenizers;

namespace Dclm.Inference.Engine;

/// <summary>
/// One request inside the engine: its tokens (prompt then generated), how many of them have keys and values in its
/// KV slot, and its own sampler, text and output buffer. The scheduler places it (slot, computed prefix), the runner
/// reads it, and the output processor advances it; all on the engine thread, except <see cref="Cancel"/>.
/// Per-sequence serving state (a LoRA adapter, a draft model's proposals) belongs here or on its request, where the
/// runner, which fills each token's row of the batch from its sequence, can read it.
/// </summary>
internal sealed class Sequence
{
    private volatile bool _cancelled;

    public Sequence(long id, GenerationRequest request, int vocabularySize, Tokenizer? tokenizer, int maxDraftTokens = 0)
    {
        Draft = new int[maxDraftTokens];
        Id = id;
        Request = request;
        PromptLength = request.Prompt.Count;
        // Room for every token up front (up to a bound), so a decode step never grows the list.
        Tokens = new List<int>(PromptLength + Math.Min(request.Sampling.MaxTokens, 4096));
        Tokens.AddRange(request.Prompt);
        Sampler = new Sampler(request.Sampling, vocabularySize, request.Constraint?.Invoke());
        Text = new GeneratedText(tokenizer, request.Sampling.StopStrings);
        if (request.PromptLogprobs) PromptEntries = new List<TokenLogprobs?>(PromptLength) { null };
        Output = new SequenceOutput(request.Sampling.MaxTokens);
    }

    /// <summary>Arrival order; lower ids are older and win when blocks are short.</summary>
    public long Id { get; }
    public GenerationRequest Request { get; }
    /// <summary>Prompt followed by the generated tokens.</summary>
    public List<int> Tokens { get; }
    public int PromptLength { get; }
    /// <summary>Log-probability, entropy and text of the output as it decodes, for the stability metrics.</summary>
    public OutputStabilityMeter Stability { get; } = new();
    /// <summary>Leading tokens whose keys and values are in the slot.</summary>
    public int Computed { get; set; }
    /// <summary>KV slot, or -1 while waiting.</summary>
    public int Slot { get; set; } = -1;
    /// <summary>Prompt tokens taken from the prefix cache at first admission.</summary>
    public int CachedTokens { get; set; }
    /// <summary>Set once the sequence has been admitted (prefix reuse counts only the first time).</summary>
    public bool EverAdmitted { get; set; }
    /// <summary>
    /// With <see cref="GenerationRequest.PromptLogprobs"/>: the prompt tokens' entries so far (null for the
    /// first); position p's logits give entry p + 1. Kept across preemption, so a recomputed prompt asks
    /// only for the entries still missing.
    /// </summary>
    public List<TokenLogprobs?>? PromptEntries { get; }
    /// <summary>Set once <see cref="PromptEntries"/> has gone out on an update.</summary>
    public bool PromptEntriesSent { get; set; }
    public Sampler Sampler { get; }
    /// <summary>The visible text: streaming decode and stop strings.</summary>
    public GeneratedText Text { get; }
    /// <summary>Where the updates go, for the request's <see cref="GenerationStream"/>.</summary>
    public SequenceOutput Output { get; }
    /// <summary>
    /// Tokens guessed to follow <see cref="Tokens"/> (speculative decoding), the first <see cref="DraftCount"/> valid; the
    /// scheduler runs as many of them as the step's budget and blocks allow, after the last token, and the sampling
    /// job keeps the ones the model itself would have chosen. Refilled before every step.
    /// </summary>
    public int[] Draft { get; }
    public int DraftCount { get; set; }
    /// <summary>The draft source this sequence holds while it runs (<see cref="DraftProposer"/>), else null.</summary>
    public Speculation.IDraftSource? DraftSource { get; set; }
    /// <summary>The last <see cref="DraftProposer"/> round that saw this sequence running.</summary>
    public long DraftRound { get; set; }
    /// <summary>Links the caller's cancellation token to <see cref="Cancel"/>; disposed when the sequence ends.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    public int Generated => Tokens.Count - PromptLength;
    /// <summary>Tokens still to run through the model before the next sample.</summary>
    public int Uncomputed => Tokens.Count - Computed;
    public bool IsCancelled => _cancelled;

    /// <summary>Whether the logits at <paramref name="position"/> are needed for a prompt entry still missing.</summary>
    public bool NeedsPromptLogits(int position) =>
        PromptEntries is { } entries && position >= entries.Count - 1 && position < PromptLength - 1;

    /// <summary>The complete prompt entries, once, for the update that carries them.</summary>
    public IReadOnlyList<TokenLogprobs?>? TakePromptEntries()
    {
        if (PromptEntries is null || PromptEntriesSent || PromptEntries.Count < PromptLength) return null;
        PromptEntriesSent = true;
        return PromptEntries;
    }

    public void Cancel() => _cancelled = true;
}

/// <summary>A cached slot whose first <see cref="Length"/> tokens equal the start of a new prompt.</summary>
internal readonly record struct PrefixMatch(int Slot, int Length);
