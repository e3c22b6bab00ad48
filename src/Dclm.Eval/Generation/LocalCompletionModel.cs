using Dclm.Inference;
using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Eval.Generation;

/// <summary>Generation in process: the <see cref="TextGenerator"/> over the model, top-p and min-p off.</summary>
public sealed class LocalCompletionModel(IDecoderModel model, Tokenizer tokenizer) : ICompletionModel
{
    private readonly TextGenerator _generator = new(model, tokenizer);

    /// <inheritdoc />
    public int ContextLength => model.Config.ContextLength;

    /// <inheritdoc />
    public OutputStability? LastStability => _hasGenerated ? _generator.Stability : null;

    private bool _hasGenerated;

    /// <inheritdoc />
    public string Complete(IReadOnlyList<int> prompt, CompletionRequest request, CancellationToken cancellation = default)
    {
        var sampling = new SamplingOptions
        {
            Temperature = request.Temperature, TopK = request.TopK, TopP = 1, MinP = 0, MaxTokens = request.MaxTokens,
            Seed = request.Seed, StopStrings = request.StopStrings,
        };
        string text = string.Concat(_generator.Generate(prompt, sampling, cancellation).Select(c => c.Text));
        _hasGenerated = true;
        return request.CutAtStop(text);
    }
}
