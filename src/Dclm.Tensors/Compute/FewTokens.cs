using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Where Q8_0/Q4_0 products switch kernels, and the loop the few-token kernels share. One token runs the one-row
/// kernels, 2 to <see cref="MaxTokens"/> − 1 tokens the few-token kernels (<c>DotQ4_0.Tokens*</c>, <c>DotQ8_0.Tokens*</c>:
/// each weight group read and unpacked once for all the tokens, every token's bits those of the one-row kernel),
/// and from <see cref="MaxTokens"/> tokens the GEMM tile kernels, which sum in another order. So a token's logits do not depend on how many tokens (below <see cref="MaxTokens"/>) share its
/// forward step: speculative verification and small decode batches give exactly the bits of decoding each token alone.
/// </summary>
internal static unsafe class FewTokens
{
    /// <summary>The most tokens a few-token kernel takes, and the batch size from which tiles take over.</summary>
    public const int MaxTokens = Q8Tiles.WideTokens;

    /// <summary>Weight rows whose per-token lanes are kept at once (16 rows × 16 tokens × 32 bytes on the stack).</summary>
    private const int MaxRows = 16;

    /// <summary>
    /// Groups × tokens per column segment: a segment of every token's activations (about 320 bytes per group and
    /// token) stays in L1 while the rows sweep it. Whole rows against fifteen tokens re-read 150 KB from L2 per row
    /// and measured 50% slower per token than eight.
    /// </summary>
    private const int SegmentBudget = 96;

    /// <summary>
    /// results[r·count + t] = weight row r · token t for <paramref name="rowCount"/> rows <paramref name="rowBytes"/>
    /// apart: the rows are taken sixteen at a time and swept one column segment after another, each row's lanes of
    /// <see cref="BlockGroups"/> (one 256-bit vector per token) carried from segment to segment, so every token's sum
    /// runs through the groups in the one-row kernel's order. <paramref name="groups"/> adds groups [first, end) of
    /// one row into its lanes and returns the running maximum of the scales' exponents; <paramref name="finish"/>
    /// adds the tail and reduces (or falls back to the reference when a scale was infinite or NaN).
    /// </summary>
    public static void Run(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results,
        delegate*<byte*, Q8Row*, int, int, int, Vector256<float>*, Vector256<int>, Vector256<int>> groups,
        delegate*<byte*, Q8Row*, int, int, Vector256<float>*, Vector256<int>, float*, void> finish)
    {
        Vector256<float>* lanes = stackalloc Vector256<float>[MaxRows * MaxTokens];
        Vector256<int>* seen = stackalloc Vector256<int>[MaxRows];
        int groupCount = blocks / BlockGroups.Size;
        int segment = Math.Max(2, SegmentBudget / Math.Max(1, count));
        for (int r0 = 0; r0 < rowCount; r0 += MaxRows)
        {
            int rows = Math.Min(MaxRows, rowCount - r0);
            byte* first = weight + r0 * rowBytes;
            for (int i = 0; i < rows * MaxTokens; i++) lanes[i] = Vector256<float>.Zero;
            for (int r = 0; r < rows; r++) seen[r] = Vector256<int>.Zero;
            for (int g0 = 0; g0 < groupCount; g0 += segment)
            {
                int g1 = Math.Min(groupCount, g0 + segment);
                for (int r = 0; r < rows; r++)
                    seen[r] = groups(first + r * rowBytes, tokens, count, g0, g1, lanes + r * MaxTokens, seen[r]);
            }
            for (int r = 0; r < rows; r++)
                finish(first + r * rowBytes, tokens, count, blocks, lanes + r * MaxTokens, seen[r], results + (long)(r0 + r) * count);
        }
    }
}
