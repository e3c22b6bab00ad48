using Dclm.Distributed;
using Dclm.Tensors;

namespace Dclm.Models.TensorParallel;

/// <summary>
/// How one model is split over the ranks of a process group (Megatron-LM's tensor parallelism, Shoeybi et al., 2019):
/// rank r of N holds query heads [r·H/N, (r+1)·H/N), key/value heads [r·KV/N, (r+1)·KV/N) and feed-forward units
/// [r·hidden/N, (r+1)·hidden/N). W_q, W_k, W_v, W_gate and W_up are split by rows (the outputs of those heads and
/// units), W_o and W_down by columns (their inputs), so each rank's W_o·a and W_down·h are partial sums that one
/// all-reduce per block adds up. Norms, embeddings and the output head are replicated: every rank holds the same
/// residual stream and computes the same logits.
/// </summary>
public sealed class TensorParallelism
{
    /// <summary>The split of <paramref name="model"/> over <paramref name="group"/>; refused, naming the width, when N does not divide it.</summary>
    public TensorParallelism(ICommunicator group, ModelConfig model)
    {
        Check(model, group.Size);
        Group = group;
        Model = model;
    }

    /// <summary>The ranks the model is split over.</summary>
    public ICommunicator Group { get; }
    /// <summary>The whole model's hyper-parameters.</summary>
    public ModelConfig Model { get; }
    /// <summary>This rank, r.</summary>
    public int Rank => Group.Rank;
    /// <summary>Number of ranks, N.</summary>
    public int Size => Group.Size;

    /// <summary>
    /// The hyper-parameters of this rank's shard: H/N query heads, KV/N key/value heads, hidden/N feed-forward units
    /// of the same head width; residual width, vocabulary and everything else as the whole model's.
    /// </summary>
    public ModelConfig ShardConfig => Model with
    {
        Heads = Model.Heads / Size, KeyValueHeads = Model.KeyValueHeads / Size, HiddenDim = Model.HiddenDim / Size,
        HeadDimension = Model.HeadDim,
    };

    /// <summary>Throws, naming the width, when <paramref name="ranks"/> does not divide the heads, key/value heads or feed-forward width of <paramref name="model"/>.</summary>
    public static void Check(ModelConfig model, int ranks)
    {
        if (ranks < 1) throw new ArgumentOutOfRangeException(nameof(ranks), "tensor parallelism needs at least one rank");
        void Divides(int width, string name)
        {
            if (width % ranks != 0) throw new ArgumentException($"tensor parallelism over {ranks} ranks needs the {name} ({width}) to divide by {ranks}");
        }
        Divides(model.Heads, "attention heads");
        Divides(model.KeyValueHeads, "key/value heads");
        Divides(model.HiddenDim, "feed-forward width");
    }

    /// <summary>
    /// Throws, naming the tensor, when a matrix split by columns would cut a quantization block: W_o's shard is
    /// qd/N columns and W_down's hidden/N, each a whole number of the type's blocks (32 values for q8_0 and q4_0).
    /// </summary>
    internal void CheckColumnSplit(string name, WeightMatrix whole)
    {
        int columns = whole.Columns / Size, block = GgmlTypeInfo.BlockSize(whole.Type);
        if (whole.Columns % Size != 0 || columns % block != 0)
            throw new ArgumentException($"tensor parallelism over {Size} ranks splits {name} ({GgmlTypeInfo.Name(whole.Type)}, {whole.Columns} columns) into {whole.Columns / (double)Size} columns per rank, not a whole number of {block}-value blocks");
    }
}
