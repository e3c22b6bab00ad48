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
        private CancellationToken _cancellation;

        public void Start(SequenceGroups groups, KvCache cache, CancellationToken cancellation) => (_groups, _cache, _cancellation) = (groups, cache, cancellation);

        public void Finish() => (_groups, _cache, _cancellation) = (null, null, default);

        public override void Execute(int thread, int threads) =>
            model.RunLayers(model._lanes[thread], _groups!.Batches[thread], _cache!, model._inline, _cancellation);
    }

    /// <summary>
    /// x = embedding(tokens), then x ← block_l(x) for every layer l, in <paramref name="lane"/>'s residual stream; keys and
    /// values go into <paramref name="cache"/>, products split over <paramref name="pool"/>. Stops before a layer once
    /// <paramref name="cancellation"/> is cancelled (one flag read a layer; a 7B layer over a long prefill takes seconds).
    /// </summary>
    private void RunLayers(LayerStep lane, ForwardBatch batch, KvCache cache, ComputePool pool, CancellationToken cancellation)
    {
        lane.Start(batch, cache, pool, Weights.TokenEmbedding, _inverseFrequencies, _sharedFrequencies);
        try
        {
            for (int layer = 0; layer < Config.Layers; layer++)
            {
                cancellation.ThrowIfCancellationRequested();
                lane.Enter(layer, Weights.Layers[layer], _projections[layer]);
                _block.Forward(lane);
            }
        }
        finally { lane.Finish(); }
    }
}
