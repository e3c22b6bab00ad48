namespace Dclm.Models;

/// <summary>How a forward step spreads the work of its layers over the compute pool's threads.</summary>
public enum LayerParallelism
{
    /// <summary>
    /// <see cref="Sequences"/> when the batch splits evenly by sequence and the layers are small enough
    /// that their products are dominated by fork/join costs; <see cref="Rows"/> otherwise.
    /// </summary>
    Auto,
    /// <summary>Every matrix product splits its weight rows over the threads (one fork/join per product).</summary>
    Rows,
    /// <summary>
    /// Each thread runs the whole layer stack for its own group of sequences, with no fork/join until
    /// the output head (which always splits by rows). Falls back to <see cref="Rows"/> when the batch
    /// holds a single sequence.
    /// </summary>
    Sequences,
}
