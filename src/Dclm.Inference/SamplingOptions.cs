namespace Dclm.Inference;

/// <summary>
/// How the next token is chosen. Applied in llama.cpp's order: logit bias, penalties (repetition, frequency,
/// presence), top-k, top-p, min-p, temperature, then a draw. Temperature 0 means greedy (argmax after
/// the penalties).
/// Every value is checked as it is set (in an initializer or a <c>with</c> expression), against the one set of ranges
/// the CLI, the HTTP API and the in-process chat client share (OpenAI's, where it has one), and a bad value throws
/// <see cref="Engine.RequestValidationException"/> naming the field as the HTTP API spells it. So an instance is
/// always valid, and nothing that receives one checks it again.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Most tokens one request may bias.</summary>
    public const int MaxLogitBiases = 1024;
    /// <summary>Highest temperature (OpenAI's limit; far above it every draw is noise).</summary>
    public const float MaxTemperature = 2f;

    private static readonly IReadOnlyDictionary<int, float> NoBias = new Dictionary<int, float>();

    private readonly float _temperature = 0.8f, _topP = 0.95f, _minP = 0.05f, _repetitionPenalty = 1f, _frequencyPenalty, _presencePenalty;
    private readonly int _topK = 40, _repetitionWindow = 64, _maxTokens = 128;
    private readonly IReadOnlyList<string> _stopStrings = [];
    private readonly IReadOnlyDictionary<int, float> _logitBias = NoBias;

    /// <summary>Softmax temperature in [0, 2]; 0 picks the most likely token.</summary>
    public float Temperature { get => _temperature; init => _temperature = InRange(value, 0, MaxTemperature, "temperature"); }
    /// <summary>Keep only the k most likely tokens; 0 = off.</summary>
    public int TopK { get => _topK; init => _topK = value >= 0 ? value : throw Invalid("top_k", $"top_k = {value} must be 0 (off) or positive"); }
    /// <summary>Keep the smallest set of tokens whose probabilities add up to at least p, in (0, 1]; 1 = off.</summary>
    public float TopP { get => _topP; init => _topP = value > 0 ? InRange(value, 0, 1, "top_p") : throw Invalid("top_p", $"top_p = {value} must be in (0, 1]"); }
    /// <summary>Drop tokens less likely than min-p times the most likely one, in [0, 1]; 0 = off.</summary>
    public float MinP { get => _minP; init => _minP = InRange(value, 0, 1, "min_p"); }
    /// <summary>CTRL-style penalty on tokens seen in the last <see cref="RepetitionWindow"/> tokens, in (0, 10]; 1 = off.</summary>
    public float RepetitionPenalty
    {
        get => _repetitionPenalty;
        init => _repetitionPenalty = value > 0 ? InRange(value, 0, 10, "repetition_penalty") : throw Invalid("repetition_penalty", $"repetition_penalty = {value} must be in (0, 10]");
    }
    /// <summary>
    /// OpenAI's frequency penalty: each token's logit drops by this times the number of times it occurs in
    /// the last <see cref="RepetitionWindow"/> tokens; 0 = off, range [-2, 2].
    /// </summary>
    public float FrequencyPenalty { get => _frequencyPenalty; init => _frequencyPenalty = InRange(value, -2, 2, "frequency_penalty"); }
    /// <summary>OpenAI's presence penalty: the logit of every token that occurs in the window drops by this once; 0 = off, range [-2, 2].</summary>
    public float PresencePenalty { get => _presencePenalty; init => _presencePenalty = InRange(value, -2, 2, "presence_penalty"); }
    /// <summary>How many recent tokens (prompt included, as in llama.cpp) the penalties look at.</summary>
    public int RepetitionWindow
    {
        get => _repetitionWindow;
        init => _repetitionWindow = value >= 0 ? value : throw Invalid("repetition_window", $"repetition_window = {value} must be 0 or positive");
    }
    /// <summary>Seed of the random draw; the same seed and inputs give the same output.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get => _maxTokens; init => _maxTokens = value >= 0 ? value : throw Invalid("max_tokens", $"max_tokens = {value} must be 0 or positive"); }
    /// <summary>Generation stops before any of these strings appears in the text.</summary>
    public IReadOnlyList<string> StopStrings { get => _stopStrings; init => _stopStrings = value ?? throw Invalid("stop", "stop must not be null"); }
    /// <summary>Stop at the model's end-of-sequence token.</summary>
    public bool StopAtEndOfSequence { get; init; } = true;
    /// <summary>
    /// OpenAI's logit_bias: added to a token's logit before the penalties and every other step, in [-100, 100]
    /// (-100 bans a token in practice, +100 all but forces it); at most <see cref="MaxLogitBiases"/> tokens, ids non-negative
    /// (whether the vocabulary has them is checked against the model when a request is made).
    /// </summary>
    public IReadOnlyDictionary<int, float> LogitBias { get => _logitBias; init => _logitBias = CheckBias(value); }

    /// <summary>Greedy decoding.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0, TopK = 0, TopP = 1, MinP = 0 };

    private static float InRange(float value, float low, float high, string field) =>
        float.IsFinite(value) && value >= low && value <= high ? value : throw Invalid(field, $"{field} = {value} must be in [{low}, {high}]");

    private static IReadOnlyDictionary<int, float> CheckBias(IReadOnlyDictionary<int, float> bias)
    {
        if (bias is null) throw Invalid("logit_bias", "logit_bias must not be null");
        if (bias.Count > MaxLogitBiases) throw Invalid("logit_bias", $"logit_bias holds {bias.Count} tokens; at most {MaxLogitBiases} are allowed");
        foreach (var (id, value) in bias)
        {
            if (id < 0) throw Invalid("logit_bias", $"logit_bias key {id} is not a token id");
            if (!float.IsFinite(value) || value is < -100 or > 100) throw Invalid("logit_bias", $"logit_bias for token {id} is {value}; it must be a number in [-100, 100]");
        }
        return bias;
    }

    private static Engine.RequestValidationException Invalid(string field, string message) => new(field, message);
}
