using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;

namespace Dclm.Training.Graph;

/// <summary>What every product of one forward or backward pass shares: threads, adapter scratch and the dropout key.</summary>
public sealed class PassContext(ComputePool pool)
{
    /// <summary>Threads the products split over.</summary>
    public ComputePool Pool { get; } = pool;
    /// <summary>Buffers the adapters share.</summary>
    public LoraScratch Scratch { get; } = new();
    /// <summary>Seeds this pass's dropout masks; 0 while evaluating (no dropout).</summary>
    public ulong DropoutKey { get; set; }
}

/// <summary>
/// One linear map of the decoder, y = x·Wᵀ with W (out, in): trainable (full training) or frozen, with
/// adapters (LoRA). The training graph calls only these two products, so where the weights live and what
/// trains is decided when the model is built, not in the block code.
/// </summary>
public abstract class Projection
{
    /// <summary>in: columns of W.</summary>
    public abstract int InputWidth { get; }
    /// <summary>out: rows of W.</summary>
    public abstract int OutputWidth { get; }

    /// <summary>y (n, out) = x (n, in) · Wᵀ.</summary>
    public abstract void Forward(ReadOnlySpan<float> x, int n, Span<float> y, PassContext pass);

    /// <summary>
    /// dx (n, in) = [dx +] dy (n, out) · W, and whatever trains accumulates its gradient from dy and the
    /// forward's input <paramref name="x"/>.
    /// </summary>
    public abstract void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, Span<float> dx, bool accumulate, PassContext pass);
}
