namespace Dclm.Inference.Engine;

/// <summary>
/// A request the engine has checked against its limits (see <see cref="InferenceEngine.CreateRequest"/>):
/// a non-empty prompt of in-vocabulary ids that, with its token budget, fits the context.
/// </summary>
public sealed class GenerationRequest
{
    internal GenerationRequest(int[] prompt, SamplingOptions sampling, int[] stopTokenIds, int topLogprobs = -1, bool promptLogprobs = false,
        Func<Constraints.ITokenConstraint>? constraint = null, int adapter = 0)
    {
        Constraint = constraint;
        Adapter = adapter;
        Prompt = prompt;
        Sampling = sampling;
        StopTokenIds = stopTokenIds;
        TopLogprobs = topLogprobs;
        PromptLogprobs = promptLogprobs;
    }

    /// <summary>Prompt token ids.</summary>
    public IReadOnlyList<int> Prompt { get; }
    /// <summary>How tokens are chosen, the token budget and the stop strings.</summary>
    public SamplingOptions Sampling { get; }
    /// <summary>Tokens that end generation like end-of-sequence does (a chat template's end-of-turn token), not shown.</summary>
    public IReadOnlyList<int> StopTokenIds { get; }
    /// <summary>−1: no log-probabilities; 0 or more: each generated token's, with that many alternatives.</summary>
    public int TopLogprobs { get; }
    /// <summary>
    /// Also the log-probability of every prompt token after the first given the tokens before it, with
    /// <see cref="TopLogprobs"/> alternatives (OpenAI's echo with logprobs; a scoring harness's loglikelihood).
    /// Such a prompt is always computed in full, never taken from the prefix cache.
    /// </summary>
    public bool PromptLogprobs { get; }
    /// <summary>
    /// The LoRA adapter the request's sequences run with: an id in the engine's <see cref="Models.Adapters.AdapterSet"/>,
    /// or 0 for the bare base. Sequences on different adapters share steps; they never share KV blocks.
    /// </summary>
    public int Adapter { get; }
    /// <summary>Makes each sequence of the request its own constraint on the tokens it may draw (JSON mode), or null.</summary>
    public Func<Constraints.ITokenConstraint>? Constraint { get; }
}
