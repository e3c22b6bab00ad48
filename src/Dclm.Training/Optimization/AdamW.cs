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
/// AdamW over the trainable tensors of a model (all of them in full training, only the adapters in LoRA):
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·(m̂/(√v̂ + ε) + λθ) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
/// Each element is updated independently, so any split over threads gives the same bits.
/// </summary>
public sealed class AdamW
{
    public AdamW(IEnumerable<ParameterTensor> tensors, AdamWOptions options)
    {
        Tensors = tensors.Where(t => t.Trainable).ToArray();
        Options = options;
        FirstMoment = Tensors.Select(t => new float[t.Length]).ToArray();
        SecondMoment = Tensors.Select(t => new float[t.Length]).ToArray();
    }

    /// <summary>The tensors this optimizer updates.</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }
    /// <summary>Hyper-parameters.</summary>
    public AdamWOptions Options { get; }
    /// <summary>m, one array per tensor of <see cref="Tensors"/>.</summary>
    public float[][] FirstMoment { get; }
    /// <summary>v, one array per tensor of <see cref="Tensors"/>.</summary>
    public float[][] SecondMoment { get; }
    /// <summary>Updates taken so far (t).</summary>
    public long Steps { get; set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> from each tensor's gradient.</summary>
    public unsafe void Step(double learningRate, ComputePool pool)
    {
        Steps++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        float beta1 = (float)b1, beta2 = (float)b2, eps = (float)Options.Epsilon;
        float correction1 = (float)(1 - Math.Pow(b1, Steps)), correction2 = (float)(1 - Math.Pow(b2, Steps));
        float lr = (float)learningRate;
        for (int i = 0; i < Tensors.Count; i++)
        {
            var tensor = Tensors[i];
            float decay = tensor.IsNorm ? 0f : (float)(learningRate * Options.WeightDecay);
            fixed (float* pp = tensor.Values, pg = tensor.Gradient, pm = FirstMoment[i], pv = SecondMoment[i])
            {
                float* ps = pp, gs = pg, ms = pm, vs = pv;
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
