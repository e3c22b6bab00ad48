namespace Dclm.Tokenizers.Tests;

/// <summary>
/// llama.cpp's tokenizer test vectors: <c>NAME.tests.inp</c> holds the strings, each followed by a line
/// <c>__ggml_vocab_test__</c> (so a string is everything between "\n__ggml_vocab_test__\n" separators and
/// may itself start or end with newlines), and <c>NAME.tests.out</c> holds one line of space-separated
/// ids per string, produced by the Hugging Face tokenizer without BOS/EOS.
/// </summary>
internal static class VocabularyTestVectors
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static IReadOnlyList<(string Text, int[] Ids)> Read(string name) =>
        Read([name + ".tests.inp"], name + ".tests.out");

    /// <summary>
    /// Reads the strings of several input files in order, paired with the lines of one output file
    /// (the reference ids for the tokenizer.json fixtures are written this way by make-reference-ids.js).
    /// </summary>
    public static IReadOnlyList<(string Text, int[] Ids)> Read(string[] inputFiles, string outputFile)
    {
        var texts = new List<string>();
        foreach (string inputFile in inputFiles)
        {
            string input = File.ReadAllText(Fixtures.Path(inputFile), System.Text.Encoding.UTF8);
            Assert.EndsWith(Separator, input);
            texts.AddRange(input[..^Separator.Length].Split(Separator));
        }
        string output = File.ReadAllText(Fixtures.Path(outputFile), System.Text.Encoding.UTF8);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(texts.Count, lines.Length);
        var cases = new List<(string, int[])>();
        for (int index = 0; index < texts.Count; index++)
        {
            int[] ids = lines[index].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((texts[index], ids));
        }
        return cases;
    }
}
