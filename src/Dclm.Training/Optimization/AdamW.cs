using Dclm.Tensors.Compute;
using Dclm.Training.Kernels;

namespace Dclm.Training.Optimization;

/// <summary>AdamW hyper-parameters; defaults are DCLM's.</summary>
public sealed record AdamWOptions
{
    /// <summary>β₁, the first-moment decay.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β₂, the second-moment decay.</summary>
    public double Beta2 { get; init; } = 0.95;
    /// <summary>ε added to √v̂.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Decoupled weight decay λ (applied as θ ← θ − lr·λ·θ), never to norm gains.</summary>
    public double WeightDecay { get; init; } = 0.033;
}

/// <summary>
/// AdamW over the flat parameter array: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·(m̂/(√v̂ + ε) + λθ)
/// with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ). Each element is updated independently, so any split over threads
/// gives the same bits.
/// </summary>
public sealed class AdamW
{
    private readonly ParameterLayout _layout;
    private readonly bool[] _decays;

    public AdamW(ParameterLayout layout, AdamWOptions options)
    {
        _layout = layout;
        Options = options;
        FirstMoment = new float[layout.Count];
        SecondMoment = new float[layout.Count];
        _decays = layout.Tensors.Select(t => !t.IsNorm).ToArray();
    }

    /// <summary>Hyper-parameters.</summary>
    public AdamWOptions Options { get; }
    /// <summary>m, laid out like the parameters.</summary>
    public float[] FirstMoment { get; }
    /// <summary>v, laid out like the parameters.</summary>
    public float[] SecondMoment { get; }
    /// <summary>Updates taken so far (t).</summary>
    public long Steps { get; set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>.</summary>
    public unsafe void Step(float[] parameters, float[] gradients, double learningRate, ComputePool pool)
    {
        if (parameters.Length != FirstMoment.Length || gradients.Length != FirstMoment.Length) throw new ArgumentException("parameters and gradients must match the optimizer's layout");
        Steps++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        float beta1 = (float)b1, beta2 = (float)b2, eps = (float)Options.Epsilon;
        float correction1 = (float)(1 - Math.Pow(b1, Steps)), correction2 = (float)(1 - Math.Pow(b2, Steps));
        float lr = (float)learningRate;
        for (int i = 0; i < _layout.Tensors.Count; i++)
        {
            var tensor = _layout.Tensors[i];
            float decay = _decays[i] ? (float)(learningRate * Options.WeightDecay) : 0f;
            fixed (float* pp = parameters, pg = gradients, pm = FirstMoment, pv = SecondMoment)
            {
                float* ps = pp + tensor.Offset, gs = pg + tensor.Offset, ms = pm + tensor.Offset, vs = pv + tensor.Offset;
                ParallelRows.Run(pool, tensor.Length, (start, end) =>
                {
                    for (int j = start; j < end; j++)
                    {
                        float g = gs[j];
                        float m = ms[j] = beta1 * ms[j] + (1 - beta1) * g;
                        float v = vs[j] = beta2 * vs[j] + (1 - beta2) * g * g;
                        float update = m / correction1 / (MathF.Sqrt(v / correction2) + eps);
                        ps[j] -= lr * update + decay * ps[j];
                    }
                }, chunk: 1 << 14);
            }
        }
    }
}
