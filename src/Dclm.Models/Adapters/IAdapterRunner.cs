namespace Dclm.Models.Adapters;

/// <summary>
/// A model that runs an <see cref="AdapterSet"/>'s LoRA adapters in its own forward pass (a GPU backend made from the CPU
/// model's weights) instead of through the CPU model's wrapped projections. It keeps its own copy of each adapter, handed
/// to it by <see cref="Prepare"/>, and applies to each row of a step the adapter <see cref="AdapterSet.AdapterOf"/> gives
/// the row's slot, with the CPU projections' math: y_r[part] += s·B·(A·x_r) after the base product, rows on the base
/// (adapter 0) untouched.
/// </summary>
public interface IAdapterRunner : IDecoderModel
{
    /// <summary>
    /// From the next step on, applies <paramref name="adapters"/> (those loaded now and later) per sequence: attaches this
    /// model to the set (<see cref="AdapterSet.Attach"/>). Throws <see cref="ArgumentException"/> when the set was made for
    /// another model, and <see cref="InvalidOperationException"/> when this model already runs another set.
    /// </summary>
    void UseAdapters(AdapterSet adapters);

    /// <summary>
    /// Takes a copy of adapter <paramref name="id"/> (the next id, or one already held whose values changed), called by
    /// the set under its lock before the adapter is served. Throws (one line) when this model cannot run it, so the set
    /// refuses the adapter.
    /// </summary>
    void Prepare(int id, LoraWeights adapter);
}
