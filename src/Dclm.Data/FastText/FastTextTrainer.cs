using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

namespace Dclm.Data.FastText;

/// <summary>
/// Settings of <c>fasttext supervised</c>; the defaults are DCLM's quality classifier's
/// (<c>baselines/train_fasttext_classifier.py</c>: fastText's supervised defaults with word bigrams).
/// </summary>
public sealed record FastTextTrainingOptions
{
    /// <summary>Initial learning rate (decays linearly to 0).</summary>
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Width of the hidden vector.</summary>
    public int Dimension { get; init; } = 100;
    /// <summary>Passes over the data.</summary>
    public int Epochs { get; init; } = 5;
    /// <summary>Words seen fewer times are left out of the vocabulary.</summary>
    public int MinCount { get; init; } = 1;
    /// <summary>Longest word n-gram (2: unigrams and bigrams, DCLM's "bigram" classifier).</summary>
    public int WordNgrams { get; init; } = 2;
    /// <summary>Hash buckets for word n-grams (fastText's default 2,000,000: 800 MB at dim 100).</summary>
    public int Buckets { get; init; } = 2_000_000;
    /// <summary>Tokens between learning-rate updates.</summary>
    public int LearningRateUpdateRate { get; init; } = 100;
    /// <summary>Seed of the initialization and of label sampling.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// fastText's supervised training with the softmax loss, one thread (so the result is reproducible): the vocabulary
/// of words and labels is counted from the lines ("__label__x text"), the input matrix starts uniform in
/// ±1/dim and the output matrix at zero, and each line in turn updates both by SGD exactly as fastText's
/// <c>Model::update</c> (hidden = mean of the line's rows; gradient of softmax cross-entropy; the input gradient
/// divided by the number of rows), with the learning rate falling linearly with the tokens processed. The result
/// is a fastText model that fastText itself loads.
/// </summary>
public static class FastTextTrainer
{
    /// <summary>Trains on <paramref name="lines"/> (each "__label__x ... text", no newlines), visited in order, epoch after epoch.</summary>
    public static FastTextModel Train(IReadOnlyList<string> lines, FastTextTrainingOptions options, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        if (options.Dimension < 1 || options.Epochs < 1 || options.LearningRate <= 0 || options.WordNgrams < 1 || options.Buckets < 0)
            throw new ArgumentException("fastText training needs dim >= 1, epoch >= 1, lr > 0, wordNgrams >= 1 and bucket >= 0");
        if (options.WordNgrams > 1 && options.Buckets == 0) throw new ArgumentException("word n-grams need bucket > 0");
        var encoded = lines.Select(l => Encoding.UTF8.GetBytes(l.Contains('\n') ? l.Replace('\n', ' ') + "\n" : l + "\n")).ToArray();
        var args = new FastTextArgs
        {
            Dimension = options.Dimension, Epochs = options.Epochs, MinCount = options.MinCount, WordNgrams = options.WordNgrams,
            Loss = FastTextLossKind.Softmax, Model = FastTextModelKind.Supervised, Buckets = options.WordNgrams > 1 ? options.Buckets : 0,
            MinN = 0, MaxN = 0, LearningRateUpdateRate = options.LearningRateUpdateRate,
        };
        var dictionary = BuildDictionary(encoded, args);
        if (dictionary.LabelCount == 0) throw new ArgumentException("no training line has a __label__ token");
        var input = new DenseFastTextMatrix(dictionary.InputRows, args.Dimension);
        var output = new DenseFastTextMatrix(dictionary.LabelCount, args.Dimension);
        var random = new Random(options.Seed);
        float bound = 1f / args.Dimension;
        for (long r = 0; r < input.Rows; r++)
        {
            var row = input.Row(r);
            for (int d = 0; d < row.Length; d++) row[d] = (float)(random.NextDouble() * 2 - 1) * bound;
        }
        Run(encoded, dictionary, input, output, options, random, progress, cancellation);
        return new FastTextModel(args, dictionary, input, output);
    }

    private static bool IsSeparator(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\v' or (byte)'\f' or 0;

    /// <summary>Counts words and labels as fastText's <c>readFromFile</c> does; orders each kind by count (ties by first appearance).</summary>
    private static FastTextDictionary BuildDictionary(byte[][] lines, FastTextArgs args)
    {
        var counts = new Dictionary<string, (long Count, int First)>(StringComparer.Ordinal);
        long tokens = 0;
        foreach (var line in lines)
        {
            int i = 0;
            while (i < line.Length)
            {
                if (line[i] == (byte)'\n') { Add(FastTextDictionary.EndOfSentence); i++; continue; }
                if (IsSeparator(line[i])) { i++; continue; }
                int start = i;
                while (i < line.Length && !IsSeparator(line[i])) i++;
                Add(Encoding.UTF8.GetString(line, start, i - start));
            }
        }
        var entries = counts.Select(kv => (Text: kv.Key, kv.Value.Count, kv.Value.First, IsLabel: kv.Key.StartsWith(FastTextDictionary.LabelPrefix, StringComparison.Ordinal)))
            .OrderBy(e => e.IsLabel).ThenByDescending(e => e.Count).ThenBy(e => e.First).ToList();
        var words = entries.Where(e => !e.IsLabel && e.Count >= args.MinCount).Select(e => (Encoding.UTF8.GetBytes(e.Text), e.Count)).ToList();
        var labels = entries.Where(e => e.IsLabel).Select(e => (Encoding.UTF8.GetBytes(e.Text), e.Count)).ToList();
        return FastTextDictionary.Create(args, words, labels, tokens);

        void Add(string token)
        {
            tokens++;
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, token, out bool exists);
            entry = exists ? (entry.Count + 1, entry.First) : (1, counts.Count);
        }
    }

    private static void Run(byte[][] lines, FastTextDictionary dictionary, DenseFastTextMatrix input, DenseFastTextMatrix output,
        FastTextTrainingOptions options, Random random, IProgress<double>? progress, CancellationToken cancellation)
    {
        int dimension = input.Columns, labelCount = dictionary.LabelCount;
        var features = new FastTextFeatures();
        var labels = new List<int>();
        var hidden = new float[dimension];
        var gradient = new float[dimension];
        var probabilities = new float[labelCount];
        long totalTokens = (long)options.Epochs * dictionary.TokenCount;
        long processed = 0, pending = 0;
        int index = 0;
        while (processed < totalTokens)
        {
            cancellation.ThrowIfCancellationRequested();
            var line = lines[index];
            index = (index + 1) % lines.Length;
            int position = 0;
            int tokens = dictionary.ReadLine(line, ref position, features);
            Labels(line, dictionary, labels);
            float rate = (float)(options.LearningRate * (1.0 - (double)processed / totalTokens));
            if (labels.Count > 0 && features.Count > 0)
            {
                int target = labels[labels.Count == 1 ? 0 : random.Next(labels.Count)];
                Update(features.Rows, target, rate, input, output, hidden, gradient, probabilities);
            }
            pending += tokens;
            if (pending > options.LearningRateUpdateRate)
            {
                processed += pending;
                pending = 0;
                progress?.Report(Math.Min(1.0, (double)processed / totalTokens));
            }
        }
    }

    /// <summary>The label indices of a line's label tokens that are in the vocabulary.</summary>
    private static void Labels(ReadOnlySpan<byte> line, FastTextDictionary dictionary, List<int> labels)
    {
        labels.Clear();
        int i = 0;
        while (i < line.Length && line[i] != (byte)'\n')
        {
            if (IsSeparator(line[i])) { i++; continue; }
            int start = i;
            while (i < line.Length && !IsSeparator(line[i])) i++;
            var token = line[start..i];
            if (!token.StartsWith("__label__"u8)) continue;
            int id = dictionary.Lookup(token);
            if (id >= dictionary.WordCount) labels.Add(id - dictionary.WordCount);
        }
    }

    /// <summary>One SGD step of fastText's <c>Model::update</c> with the softmax loss.</summary>
    private static void Update(ReadOnlySpan<int> rows, int target, float rate, DenseFastTextMatrix input, DenseFastTextMatrix output,
        float[] hidden, float[] gradient, float[] probabilities)
    {
        input.AverageRows(rows, hidden);
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] = TensorPrimitives.Dot(output.Row(i), hidden);
        TensorPrimitives.SoftMax(probabilities, probabilities);
        Array.Clear(gradient);
        for (int i = 0; i < probabilities.Length; i++)
        {
            // ∂(−log p_target)/∂logit_i = p_i − [i = target]; fastText steps by alpha = lr·([i = target] − p_i).
            float alpha = rate * ((i == target ? 1f : 0f) - probabilities[i]);
            var weights = output.Row(i);
            TensorPrimitives.MultiplyAdd(weights, alpha, gradient, gradient);
            TensorPrimitives.MultiplyAdd(hidden, alpha, weights, weights);
        }
        TensorPrimitives.Multiply(gradient, 1f / rows.Length, gradient);
        foreach (int row in rows) TensorPrimitives.Add(input.Row(row), gradient, input.Row(row));
    }
}
