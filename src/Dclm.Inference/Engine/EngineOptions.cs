namespace Dclm.Inference.Engine;

/// <summary>Limits and sizes of an <see cref="InferenceEngine"/>; <see cref="Resolve"/> fills the defaults that depend on the model.</summary>
public sealed record EngineOptions
{
    /// <summary>Most sequences that run (hold a KV slot and advance) at once.</summary>
    public int MaxRunningSequences { get; init; } = 8;
    /// <summary>Most tokens (prefill and decode together) in one forward step; bounds activation memory and keeps decode steps short while long prompts prefill.</summary>
    public int StepTokenBudget { get; init; } = 256;
    /// <summary>Most requests not yet given a slot (including ones just submitted); more are refused with <see cref="EngineBusyException"/>.</summary>
    public int MaxWaitingRequests { get; init; } = 64;
    /// <summary>Positions per sequence: prompt plus generated tokens. 0 = the model's context length.</summary>
    public int ContextLength { get; init; }
    /// <summary>Positions per KV block.</summary>
    public int BlockSize { get; init; } = 16;
    /// <summary>
    /// Blocks in the KV pool. 0 = as many as fit in <see cref="KvMemoryBytes"/>, up to one full context per running sequence
    /// (for a sliding-window model, up to one window plus one step's tokens: its cache rolls).
    /// </summary>
    public int KvBlocks { get; init; }
    /// <summary>Memory the KV pool may take when <see cref="KvBlocks"/> is 0.</summary>
    public long KvMemoryBytes { get; init; } = 2L << 30;
    /// <summary>
    /// How the KV pool stores keys and values: exact floats, or int8 with a scale per position and head
    /// (3.8 times the positions in the same memory for 64- to 128-wide heads, at the accuracy the quantization
    /// report measures).
    /// </summary>
    public Models.KvCacheType KvCacheType { get; init; } = Models.KvCacheType.F32;
    /// <summary>Finished sequences kept so later prompts sharing their prefix (the next chat turn) skip recomputing it; 0 = off.</summary>
    public int PrefixCacheEntries { get; init; } = 16;
    /// <summary>
    /// Speculative decoding by prompt lookup: each decoding sequence's step also checks up to <see cref="MaxDraftTokens"/>
    /// tokens that followed the last <c>LookupNgram</c> tokens earlier in its prompt and output
    /// (<see cref="Speculation.PromptLookupDraft"/>); the output is unchanged. 0 = off.
    /// </summary>
    public int LookupNgram { get; init; }
    /// <summary>
    /// Speculative decoding with a draft model sharing the target's vocabulary (<see cref="Speculation.DraftModelSource"/>):
    /// each running sequence gets its own source with a single-sequence KV cache of <see cref="ContextLength"/> positions,
    /// run on the engine thread; the output is unchanged. The caller owns the model. Null = off; not with <see cref="LookupNgram"/>.
    /// </summary>
    public Models.DecoderModel? DraftModel { get; init; }
    /// <summary>Most draft tokens one sequence's step checks, in [1, <see cref="Speculation.SpeculativeDecoding.MostExactDraftTokens"/>].</summary>
    public int MaxDraftTokens { get; init; } = 4;

    /// <summary>Checks ranges against the model and fills the model-dependent defaults.</summary>
    public EngineOptions Resolve(Models.ModelConfig config)
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentOutOfRangeException(message); }
        Require(MaxRunningSequences is > 0 and <= 1024, $"parallel sequences {MaxRunningSequences} must be in [1, 1024]");
        Require(StepTokenBudget >= MaxRunningSequences, $"step token budget {StepTokenBudget} must be at least the {MaxRunningSequences} parallel sequences");
        Require(MaxWaitingRequests > 0, $"waiting queue size {MaxWaitingRequests} must be positive");
        Require(ContextLength >= 0, $"context length {ContextLength} must be 0 or positive");
        Require(BlockSize is > 0 and <= 4096, $"block size {BlockSize} must be in [1, 4096]");
        Require(KvBlocks >= 0 && KvMemoryBytes > 0, "KV blocks must be 0 or positive and KV memory positive");
        Require(Enum.IsDefined(KvCacheType), $"KV cache type {KvCacheType} is not one of {string.Join(", ", Enum.GetNames<Models.KvCacheType>())}");
        Require(PrefixCacheEntries is >= 0 and <= 4096, $"prefix cache entries {PrefixCacheEntries} must be in [0, 4096]");
        Require(LookupNgram >= 0, $"lookup n-gram {LookupNgram} must be 0 (off) or positive");
        Require(MaxDraftTokens is >= 1 and <= Speculation.SpeculativeDecoding.MostExactDraftTokens,
            $"draft tokens per step {MaxDraftTokens} must be in [1, {Speculation.SpeculativeDecoding.MostExactDraftTokens}]");
        int context = ContextLength == 0 ? config.ContextLength : ContextLength;
        Require(DraftModel is null || LookupNgram == 0, "speculative decoding takes a draft model or prompt lookup, not both");
        Require(DraftModel is null || DraftModel.Config.ContextLength >= context,
            $"the draft model's context is {DraftModel?.Config.ContextLength} tokens; the engine's sequences reach {context} (lower the context)");
        // A sliding-window model's cache rolls, so a sequence holds about a window's blocks however long it runs.
        int perSequence = Models.KvCache.MostBlocksPerSequence(config, context, BlockSize, StepTokenBudget);
        int blocks = KvBlocks;
        if (blocks == 0)
        {
            long bytesPerBlock = Models.KvCache.BytesPerBlock(config, BlockSize, KvCacheType);
            long fit = Math.Max(1, KvMemoryBytes / bytesPerBlock);
            blocks = (int)Math.Min(fit, (long)perSequence * MaxRunningSequences);
        }
        Require(blocks >= perSequence, $"{blocks} KV blocks of {BlockSize} positions cannot hold one {context}-token sequence; lower the context or give the cache more memory");
        return this with { ContextLength = context, KvBlocks = blocks };
    }
}
