using Dclm.Distributed;
using Dclm.Models.TensorParallel;
using Dclm.Tensors.Compute;

namespace Dclm.Models;

public sealed partial class DecoderModel
{
    /// <summary>
    /// This rank's shard of the model <paramref name="config"/> and <paramref name="weights"/> describe, split over the
    /// ranks of <paramref name="group"/> (<see cref="TensorParallelism"/>): it keeps H/N heads and hidden/N feed-forward
    /// units, and its attention output and down projections add their partial sums over the ranks. Every rank must then
    /// run the same forward steps in the same order; each gets the whole model's logits. The returned model owns
    /// <paramref name="weights"/>. A split that N does not divide, or that would cut a quantization block, is refused by name.
    /// </summary>
    public static DecoderModel Sharded(ModelConfig config, ModelWeights weights, ICommunicator group, ComputePool? pool = null)
    {
        var parallel = new TensorParallelism(group, config.Validate());
        return new DecoderModel(parallel.ShardConfig, WeightShards.Shard(weights, parallel), pool, parallel);
    }
}
