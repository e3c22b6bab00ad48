namespace Dclm.Training.Data;

/// <summary>
/// One stage of the data-mixing schedule: draw from the named sources with these relative weights for
/// <see cref="Tokens"/> training tokens (0 = until training ends). DCLM's recipe puts general data first
/// and domain data after.
/// </summary>
public sealed record MixingStage(string Name, long Tokens, IReadOnlyDictionary<string, double> Weights);
