namespace Dclm.Training.FineTuning.Data;

/// <summary>One training document: its tokens and, per token, whether predicting it counts in the loss.</summary>
/// <param name="Tokens">Token ids, BOS and EOS included where the model uses them.</param>
/// <param name="Learned">Learned[i]: the loss includes predicting Tokens[i] from the tokens before it.</param>
/// <param name="Line">Line of the data file it came from (1-based).</param>
/// <param name="Format">The line's format: a text document longer than a sequence is cut into pieces, others are truncated.</param>
public sealed record FineTuningExample(int[] Tokens, bool[] Learned, int Line, ExampleFormat Format)
{
    /// <summary>How many tokens are learned.</summary>
    public int LearnedCount => Learned.Count(l => l);
}
