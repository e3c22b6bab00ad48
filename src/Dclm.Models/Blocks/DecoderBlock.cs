namespace Dclm.Models.Blocks;

/// <summary>
/// One architecture's transformer block (one file each, under Architectures/): x ← block(x) for every token of a step,
/// storing the layer's keys and values in the cache. Blocks are built from the shared <see cref="AttentionBlock"/> and
/// <see cref="SwiGluBlock"/>; every matrix product goes through the layer's projections. Stateless: one instance serves
/// every layer and every lane.
/// </summary>
internal abstract class DecoderBlock
{
    /// <summary>Runs layer <see cref="LayerStep.Layer"/> over the step's tokens.</summary>
    public abstract void Forward(LayerStep step);
}
