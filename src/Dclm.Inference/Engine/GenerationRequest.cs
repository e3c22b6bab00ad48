using Dclm.Models;

namespace Dclm.Inference.Engine;

/// <summary>
/// A request the engine has checked against its model and limits, once, in <see cref="InferenceEngine.CreateRequest"/>:
/// a non-empty prompt of in-vocabulary ids that, with its token budget, fits the context; logit biases on tokens the
/// vocabulary has; log-probability options that go together; an adapter the engine serves (or 0, the base). Its <see cref="Sampling"/> options checked their own
/// ranges when they were made. Nothing downstream checks them again.
/// </summary>
public sealed class GenerationRequest
{
    private readonly int[] _prompt, _stopTokenIds;

    private GenerationRequest(int[] prompt, SamplingOptions sampling, int[] stopTokenIds, int topLogprobs, bool promptLogprobs,
        Func<Constraints.ITokenConstraint>? constraint, int adapter)
    {
        _prompt = prompt;
        _stopTokenIds = stopTokenIds;
        Adapter = adapter;
        Sampling = sampling;
        TopLogprobs = topLogprobs;
        PromptLogprobs = promptLogprobs;
        Constraint = constraint;
    }

    /// <summary>Prompt token ids.</summary>
    public IReadOnlyList<int> Prompt => _prompt;
    /// <summary>How tokens are chosen, the token budget and the stop strings.</summary>
    public SamplingOptions Sampling { get; }
    /// <summary>Tokens that end generation like end-of-sequence does (a chat template's end-of-turn token), not shown.</summary>
    public IReadOnlyList<int> StopTokenIds => _stopTokenIds;
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

    /// <summary>Whether <paramref name="token"/> is one of <see cref="StopTokenIds"/>.</summary>
    internal bool IsStopToken(int token) => Array.IndexOf(_stopTokenIds, token) >= 0;

    /// <summary>The one check of a request against the model and the engine's context; throws naming the field at fault.</summary>
    internal static GenerationRequest Validate(ModelConfig model, int contextLength, IReadOnlyList<int> prompt, SamplingOptions sampling,
        IReadOnlyList<int>? stopTokenIds, int topLogprobs, bool promptLogprobs, Func<Constraints.ITokenConstraint>? constraint, int adapter, int adapters)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampling);
        if (adapter < 0 || adapter > adapters)
            throw new RequestValidationException("model", $"there is no adapter {adapter} ({adapters} loaded)");
        if (topLogprobs < -1 || topLogprobs > TokenLogprobs.MaxTop)
            throw new RequestValidationException("top_logprobs", $"top_logprobs {topLogprobs} must be in [0, {TokenLogprobs.MaxTop}]");
        if (promptLogprobs && topLogprobs < 0)
            throw new RequestValidationException("logprobs", "the prompt's log-probabilities need top_logprobs of 0 or more");
        if (prompt.Count == 0) throw new RequestValidationException("prompt", "the prompt must hold at least one token");
        int vocabulary = model.VocabularySize;
        foreach (int id in prompt)
            if ((uint)id >= (uint)vocabulary)
                throw new RequestValidationException("prompt", $"token id {id} is outside the vocabulary of {vocabulary}");
        foreach (int id in sampling.LogitBias.Keys)
            if ((uint)id >= (uint)vocabulary)
                throw new RequestValidationException("logit_bias", $"token id {id} is outside the vocabulary of {vocabulary}");
        if ((long)prompt.Count + sampling.MaxTokens > contextLength)
            throw new RequestValidationException("max_tokens", $"the prompt's {prompt.Count} tokens plus max_tokens {sampling.MaxTokens} exceed the context of {contextLength} tokens");
        return new GenerationRequest(prompt.ToArray(), sampling, stopTokenIds?.ToArray() ?? [], topLogprobs, promptLogprobs, constraint, adapter);
    }

    /// <summary>A request made without the checks, for the engine's own tests of the scheduler.</summary>
    internal static GenerationRequest Unchecked(int[] prompt, SamplingOptions sampling) => new(prompt, sampling, [], -1, false, null, 0);
}
