namespace Dclm.Inference;

/// <summary>
/// How the next token is chosen. Applied in llama.cpp's order: logit bias, penalties (repetition, frequency,
/// presence), top-k, top-p, min-p, temperature, then a draw. Temperature 0 means greedy (argmax after
/// the penalties).
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 picks the most likely token.</summary>
    public float Temperature { get; init; } = 0.8f;
    /// <summary>Keep only the k most likely tokens; 0 = off.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Keep the smallest set of tokens whose probabilities add up to at least p; 1 = off.</summary>
    public float TopP { get; init; } = 0.95f;
    /// <summary>Drop tokens less likely than min-p times the most likely one; 0 = off.</summary>
    public float MinP { get; init; } = 0.05f;
    /// <summary>CTRL-style penalty on tokens seen in the last <see cref="RepetitionWindow"/> tokens; 1 = off.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;
    /// <summary>
    /// OpenAI's frequency penalty: each token's logit drops by this times the number of times it occurs in
    /// the last <see cref="RepetitionWindow"/> tokens; 0 = off, range [-2, 2].
    /// </summary>
    public float FrequencyPenalty { get; init; }
    /// <summary>OpenAI's presence penalty: the logit of every token that occurs in the window drops by this once; 0 = off, range [-2, 2].</summary>
    public float PresencePenalty { get; init; }
    /// <summary>How many recent tokens (prompt included, as in llama.cpp) the penalties look at.</summary>
    public int RepetitionWindow { get; init; } = 64;
    /// <summary>Seed of the random draw; the same seed and inputs give the same output.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 128;
    /// <summary>Generation stops before any of these strings appears in the text.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Stop at the model's end-of-sequence token.</summary>
    public bool StopAtEndOfSequence { get; init; } = true;
    /// <summary>
    /// OpenAI's logit_bias: added to a token's logit before the penalties and every other step, in [-100, 100]
    /// (-100 bans a token in practice, +100 all but forces it).
    /// </summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = NoBias;

    /// <summary>Most tokens one request may bias.</summary>
    public const int MaxLogitBiases = 1024;

    private static readonly IReadOnlyDictionary<int, float> NoBias = new Dictionary<int, float>();

    /// <summary>Greedy decoding.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0, TopK = 0, TopP = 1, MinP = 0 };

    /// <summary>Checks ranges and names the offending field.</summary>
    public SamplingOptions Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentOutOfRangeException(message); }
        Require(float.IsFinite(Temperature) && Temperature >= 0 && Temperature <= 100, $"temperature {Temperature} must be in [0, 100]");
        Require(TopK >= 0, $"top_k {TopK} must be 0 or positive");
        Require(float.IsFinite(TopP) && TopP > 0 && TopP <= 1, $"top_p {TopP} must be in (0, 1]");
        Require(float.IsFinite(MinP) && MinP >= 0 && MinP <= 1, $"min_p {MinP} must be in [0, 1]");
        Require(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0 && RepetitionPenalty <= 10, $"repetition penalty {RepetitionPenalty} must be in (0, 10]");
        Require(float.IsFinite(FrequencyPenalty) && FrequencyPenalty >= -2 && FrequencyPenalty <= 2, $"frequency penalty {FrequencyPenalty} must be in [-2, 2]");
        Require(float.IsFinite(PresencePenalty) && PresencePenalty >= -2 && PresencePenalty <= 2, $"presence penalty {PresencePenalty} must be in [-2, 2]");
        Require(RepetitionWindow >= 0, $"repetition window {RepetitionWindow} must be 0 or positive");
        Require(MaxTokens >= 0, $"max tokens {MaxTokens} must be 0 or positive");
        Require(LogitBias.Count <= MaxLogitBiases, $"logit_bias holds {LogitBias.Count} tokens; at most {MaxLogitBiases} are allowed");
        foreach (var (id, bias) in LogitBias)
            Require(id >= 0 && float.IsFinite(bias) && bias is >= -100 and <= 100, $"logit_bias for token {id} is {bias}; ids must be non-negative and biases in [-100, 100]");
        return this;
    }
}
