namespace Dclm.Data.FastText;

/// <summary>One predicted label: its index among the model's labels, its name and fastText's probability.</summary>
/// <remarks>
/// As in fastText, <see cref="Probability"/> is <c>exp(log(p + 1e-5))</c>: the model's probability plus 1e-5 in
/// float precision, so a certain prediction reads 1.00001.
/// </remarks>
public readonly record struct FastTextPrediction(int Label, string Name, float Probability);
