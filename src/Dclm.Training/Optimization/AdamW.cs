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
/// Each element is updated independently, so any split over threads gives the same bits. The moments are kept
/// per segment of a tensor: one whole tensor each, or after <see cref="Shard"/> (ZeRO-1) only the pieces this
/// rank updates.
/// </summary>
public sealed class AdamW
{
    private (int Tensor, int Offset, int Count)[] _segments;

    public AdamW(IEnumerable<ParameterTensor> tensors, AdamWOptions options)
    {
        Tensors = tensors.Where(t => t.Trainable).ToArray();
        Options = options;
        _segments = Tensors.Select((t, i) => (i, 0, t.Length)).ToArray();
        FirstMoment = Tensors.Select(t => new float[t.Length]).ToArray();
        SecondMoment = Tensors.Select(t => new float[t.Length]).ToArray();
    }

    /// <summary>The tensors this optimizer updates.</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }
    /// <summary>Hyper-parameters.</summary>
    public AdamWOptions Options { get; }
    /// <summary>m, one array per segment (per tensor of <see cref="Tensors"/> unless sharded).</summary>
    public float[][] FirstMoment { get; private set; }
    /// <summary>v, one array per segment (per tensor of <see cref="Tensors"/> unless sharded).</summary>
    public float[][] SecondMoment { get; private set; }
    /// <summary>Updates taken so far (t).</summary>
    public long Steps { get; set; }
    /// <summary>Whether this optimizer keeps moments for only part of its tensors.</summary>
    public bool IsSharded { get; private set; }
    /// <summary>Bytes of optimizer state this process holds (m and v).</summary>
    public long StateBytes => FirstMoment.Sum(m => (long)m.Length) * 2 * sizeof(float);

    /// <summary>(tensor index, offset, count) of each segment, in the order of <see cref="FirstMoment"/>.</summary>
    public IReadOnlyList<(int Tensor, int Offset, int Count)> Segments => _segments;

    /// <summary>
    /// Keeps moments only for <paramref name="pieces"/> (tensor index, offset, count), copying what it held there, and
    /// from now on updates only those values (ZeRO-1: each rank updates its own share).
    /// </summary>
    public void Shard(IEnumerable<(int Tensor, int Offset, int Count)> pieces)
    {
        if (IsSharded) throw new InvalidOperationException("the optimizer is already sharded");
        var kept = pieces.ToArray();
        FirstMoment = kept.Select(p => FirstMoment[p.Tensor].AsSpan(p.Offset, p.Count).ToArray()).ToArray();
        SecondMoment = kept.Select(p => SecondMoment[p.Tensor].AsSpan(p.Offset, p.Count).ToArray()).ToArray();
        _segments = kept;
        IsSharded = true;
    }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> from each tensor's gradient.</summary>
    public unsafe void Step(double learningRate, ComputePool pool)
    {
        Steps++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        float beta1 = (float)b1, beta2 = (float)b2, eps = (float)Options.Epsilon;
        float correction1 = (float)(1 - Math.Pow(b1, Steps)), correction2 = (float)(1 - Math.Pow(b2, Steps));
        float lr = (float)learningRate;
        for (int i = 0; i < _segments.Length; i++)
        {
            var (index, offset, count) = _segments[i];
            var tensor = Tensors[index];
            float decay = tensor.IsNorm ? 0f : (float)(learningRate * Options.WeightDecay);
            fixed (float* pp = tensor.Values, pg = tensor.Gradient, pm = FirstMoment[i], pv = SecondMoment[i])
            {
                float* ps = pp + offset, gs = pg + offset, ms = pm, vs = pv;
                ParallelRows.Run(pool, count, (start, end) =>
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
