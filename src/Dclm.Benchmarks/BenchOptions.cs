namespace Dclm.Benchmarks;

/// <summary>What to measure and how, with llama-bench's defaults (pp512, tg128, 5 repetitions).</summary>
public sealed record BenchOptions
{
    /// <summary>A GGUF file, or "synthetic:SHAPE" for a random-weight model the benchmark writes.</summary>
    public string Model { get; init; } = "synthetic:tinyllama";
    /// <summary>Tensor type of a synthetic model.</summary>
    public string Type { get; init; } = "q8_0";
    /// <summary>Where synthetic models are kept between runs.</summary>
    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "dclm-bench");
    /// <summary>Compute threads for both engines.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Prompt tokens for the pp test; 0 skips it.</summary>
    public int PromptTokens { get; init; } = 512;
    /// <summary>Generated tokens for the tg test; 0 skips it.</summary>
    public int GeneratedTokens { get; init; } = 128;
    /// <summary>Measured repetitions after one warm-up run.</summary>
    public int Repetitions { get; init; } = 5;
    /// <summary>Where our layers run: cpu, cuda, cuda:N or cpu-accel.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>"llama.cpp" to measure the peer in the same run, or null.</summary>
    public string? Compare { get; init; }
    /// <summary>
    /// How we hold the weights: by default as a user's load does (copied when they fit). Mapped also maps them
    /// for llama.cpp; Copied also reads them into llama.cpp's own buffers (its --no-mmap); otherwise llama.cpp
    /// runs with its own default, the mapping.
    /// </summary>
    public Checkpoints.WeightLoading Loading { get; init; }
    /// <summary>
    /// Longest n-gram of the speculation test (prompt-lookup drafts on a repetitive prompt of <see cref="PromptTokens"/>
    /// tokens, against plain decoding, both <see cref="GeneratedTokens"/> long); 0 skips it.
    /// </summary>
    public int LookupNgram { get; init; }
    /// <summary>Most draft tokens per step in the speculation test.</summary>
    public int DraftMax { get; init; } = 8;
    /// <summary>
    /// Text whose tokens (by the model's own tokenizer) are the speculation test's prompt instead of the synthetic
    /// repetitive one: a real document being edited or quoted, to measure what prompt lookup gains on real text.
    /// </summary>
    public string? LookupPrompt { get; init; }

    /// <summary>Checks ranges and names the offending option.</summary>
    public BenchOptions Validate()
    {
        if (Threads is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(Threads), $"--threads {Threads} must be in [1, 1024]");
        if (PromptTokens is < 0 or > 8192) throw new ArgumentOutOfRangeException(nameof(PromptTokens), $"--prompt {PromptTokens} must be in [0, 8192]");
        if (GeneratedTokens is < 0 or > 8192) throw new ArgumentOutOfRangeException(nameof(GeneratedTokens), $"--gen {GeneratedTokens} must be in [0, 8192]");
        if (Repetitions is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(Repetitions), $"--repetitions {Repetitions} must be in [1, 100]");
        if (LookupNgram is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(LookupNgram), $"--lookup-ngram {LookupNgram} must be in [0, 64]");
        if (DraftMax is < 1 or > Inference.Speculation.SpeculativeDecoding.MaxDraftTokensLimit)
            throw new ArgumentOutOfRangeException(nameof(DraftMax), $"--draft-max {DraftMax} must be in [1, {Inference.Speculation.SpeculativeDecoding.MaxDraftTokensLimit}]");
        if (LookupNgram > 0 && (PromptTokens < 2 || GeneratedTokens < 2))
            throw new ArgumentException($"--lookup-ngram needs --prompt and --gen of at least 2 tokens (they are {PromptTokens} and {GeneratedTokens})");
        if (LookupPrompt is not null && (LookupNgram == 0 || LookupPrompt.Length == 0))
            throw new ArgumentException("--lookup-prompt needs --lookup-ngram N and a non-empty file");
        if (Compare is not null && !BenchPeers.Names.Contains(Compare)) throw new ArgumentException($"--compare '{Compare}' is not supported ({string.Join(", ", BenchPeers.Names)})");
        return this;
    }
}
