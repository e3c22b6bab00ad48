namespace Dclm.Data.FastText;

/// <summary>fastText's <c>model_name</c>: what the model was trained for.</summary>
public enum FastTextModelKind
{
    /// <summary>Continuous bag of words (unsupervised).</summary>
    Cbow = 1,
    /// <summary>Skip-gram (unsupervised).</summary>
    SkipGram = 2,
    /// <summary>Text classification (<c>fasttext supervised</c>); the only kind that predicts labels.</summary>
    Supervised = 3,
}

/// <summary>fastText's <c>loss_name</c>: how the output layer turns the hidden vector into probabilities.</summary>
public enum FastTextLossKind
{
    /// <summary>Hierarchical softmax over a Huffman tree of the label counts.</summary>
    HierarchicalSoftmax = 1,
    /// <summary>Negative sampling (predicts like one-vs-all).</summary>
    NegativeSampling = 2,
    /// <summary>Full softmax.</summary>
    Softmax = 3,
    /// <summary>One independent sigmoid per label (multi-label).</summary>
    OneVsAll = 4,
}

/// <summary>
/// The training arguments a fastText model file stores (<c>Args::save</c>, in this order): everything that
/// changes how text becomes features (<see cref="WordNgrams"/>, <see cref="Buckets"/>, <see cref="MinN"/>,
/// <see cref="MaxN"/>) and how outputs become probabilities (<see cref="Loss"/>).
/// </summary>
public sealed record FastTextArgs
{
    /// <summary>Width of the hidden vector.</summary>
    public int Dimension { get; init; } = 100;
    /// <summary>Context window (unsupervised training only).</summary>
    public int WindowSize { get; init; } = 5;
    /// <summary>Training epochs.</summary>
    public int Epochs { get; init; } = 5;
    /// <summary>Minimum count of a word to enter the vocabulary.</summary>
    public int MinCount { get; init; } = 1;
    /// <summary>Negatives sampled per positive (negative-sampling loss).</summary>
    public int Negatives { get; init; } = 5;
    /// <summary>Longest word n-gram hashed into buckets (2 = unigrams and bigrams).</summary>
    public int WordNgrams { get; init; } = 1;
    /// <summary>Output loss.</summary>
    public FastTextLossKind Loss { get; init; } = FastTextLossKind.Softmax;
    /// <summary>Model kind.</summary>
    public FastTextModelKind Model { get; init; } = FastTextModelKind.Supervised;
    /// <summary>Hash buckets for character and word n-grams (rows after the vocabulary in the input matrix).</summary>
    public int Buckets { get; init; } = 2_000_000;
    /// <summary>Shortest character n-gram (0 with <see cref="MaxN"/> 0: none).</summary>
    public int MinN { get; init; }
    /// <summary>Longest character n-gram (0: none).</summary>
    public int MaxN { get; init; }
    /// <summary>Tokens between learning-rate updates during training.</summary>
    public int LearningRateUpdateRate { get; init; } = 100;
    /// <summary>Subsampling threshold (unsupervised training only).</summary>
    public double SamplingThreshold { get; init; } = 1e-4;

    internal static FastTextArgs Read(FastTextReader reader)
    {
        var args = new FastTextArgs
        {
            Dimension = reader.Int32(), WindowSize = reader.Int32(), Epochs = reader.Int32(), MinCount = reader.Int32(),
            Negatives = reader.Int32(), WordNgrams = reader.Int32(), Loss = (FastTextLossKind)reader.Int32(), Model = (FastTextModelKind)reader.Int32(),
            Buckets = reader.Int32(), MinN = reader.Int32(), MaxN = reader.Int32(), LearningRateUpdateRate = reader.Int32(),
            SamplingThreshold = reader.Double(),
        };
        reader.Require(args.Dimension is >= 1 and <= 65536, $"dim {args.Dimension} outside 1..65536");
        reader.Require(Enum.IsDefined(args.Loss), $"unknown loss {(int)args.Loss}");
        reader.Require(Enum.IsDefined(args.Model), $"unknown model kind {(int)args.Model}");
        reader.Require(args.Buckets >= 0, $"negative bucket count {args.Buckets}");
        reader.Require(args.WordNgrams is >= 0 and <= 64, $"wordNgrams {args.WordNgrams} outside 0..64");
        reader.Require(args.MinN >= 0 && args.MaxN >= 0 && args.MaxN <= 64, $"minn {args.MinN} / maxn {args.MaxN} outside 0..64");
        reader.Require(args.Buckets > 0 || (args.MaxN == 0 && args.WordNgrams <= 1), "n-grams need buckets > 0");
        return args;
    }

    internal void Write(BinaryWriter writer)
    {
        writer.Write(Dimension); writer.Write(WindowSize); writer.Write(Epochs); writer.Write(MinCount);
        writer.Write(Negatives); writer.Write(WordNgrams); writer.Write((int)Loss); writer.Write((int)Model);
        writer.Write(Buckets); writer.Write(MinN); writer.Write(MaxN); writer.Write(LearningRateUpdateRate);
        writer.Write(SamplingThreshold);
    }
}
