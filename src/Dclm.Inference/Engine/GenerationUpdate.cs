namespace Dclm.Inference.Engine;

/// <summary>Token counts of one finished request.</summary>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="CompletionTokens">Tokens generated (including any a stop string hid).</param>
/// <param name="CachedTokens">Prompt tokens whose keys and values came from the prefix cache instead of being recomputed.</param>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens, int CachedTokens)
{
    /// <summary>Prompt and completion tokens together.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
    /// <summary>How the output looked to the model (log-probability, entropy, repetition, empty, cut); null for combined usages.</summary>
    public OutputStability? Stability { get; init; }
}

/// <summary>
/// One event of a running request: a generated token and the text that became safe to show (often
/// empty while UTF-8 bytes or a possible stop string are held back), or, last, the finish with usage.
/// </summary>
/// <param name="TokenId">The generated token, or -1 for the final update.</param>
/// <param name="Text">Newly visible text.</param>
/// <param name="FinishReason">None until the final update.</param>
/// <param name="Usage">Set on the final update.</param>
/// <param name="Logprobs">The token's log-probability and alternatives, when the request asked for them.</param>
/// <param name="PromptLogprobs">
/// When the request asked for the prompt's log-probabilities: one entry per prompt token (null for the
/// first, which has no context), on the first update after the prompt has run.
/// </param>
public sealed record GenerationUpdate(int TokenId, string Text, FinishReason FinishReason, GenerationUsage? Usage, TokenLogprobs? Logprobs = null,
    IReadOnlyList<TokenLogprobs?>? PromptLogprobs = null);
