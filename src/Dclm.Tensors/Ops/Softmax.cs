namespace Dclm.Tensors.Ops;

/// <summary>Numerically stable softmax.</summary>
public static class Softmax
{
    /// <summary>values_i ← e^(values_i − max) / Σ_j e^(values_j − max), in place.</summary>
    public static void InPlace(Span<float> values)
    {
        if (values.IsEmpty) return;
        float max = float.NegativeInfinity;
        foreach (float v in values) if (v > max) max = v;
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float e = MathF.Exp(values[i] - max);
            values[i] = e;
            sum += e;
        }
        float inverse = (float)(1.0 / sum);
        for (int i = 0; i < values.Length; i++) values[i] *= inverse;
    }
}
