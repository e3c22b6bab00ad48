using Dclm.Models.Blocks;
using Dclm.Tensors.Compute;

namespace Dclm.Models;

public sealed partial class DecoderModel
{
    /// <summary>Runs group i of a split batch through the layers on thread i, each product on that thread alone.</summary>
    private sealed class SequenceGroupsJob(DecoderModel model) : ComputeJob
    {
        private SequenceGroups? _groups;
        private KvCache? _cache;

        public void Start(SequenceGroups groups, KvCache cache) => (_groups, _cache) = (groups, cache);

        public void Finish() => (_groups, _cache) = (null, null);

        public override void Execute(int thread, int threads) => model.RunLayers(model._lanes[thread], _groups!.Batches[thread], _cache!, model._inline);
    }

    /// <summary>
    /// x = embedding(tokens), then x ← block_l(x) for every layer l, in <paramref name="lane"/>'s residual stream; keys and
    /// values go into <paramref name="cache"/>, products split over <paramref name="pool"/>.
    /// </summary>
    private void RunLayers(LayerStep lane, ForwardBatch batch, KvCache cache, ComputePool pool)
    {
        lane.Start(batch, cache, pool, Weights.TokenEmbedding, _inverseFrequencies, _sharedFrequencies);
        try
        {
            for (int layer = 0; layer < Config.Layers; layer++)
            {
                lane.Enter(layer, Weights.Layers[layer], _projections[layer]);
                _block.Forward(lane);
            }
        }
        finally { lane.Finish(); }
    }
}
