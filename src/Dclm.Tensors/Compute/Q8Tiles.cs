using System.Runtime.CompilerServices;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Quantized activations of a group of tokens regrouped so that vector lanes are tokens: for each block of
/// 32 columns, eight groups (group j holds levels 4j..4j+3 of token 0, then of token 1, ...), then the
/// tokens' 8·Σ levels of the block (int32), then their scales (float). A weight kernel broadcasts four of
/// its levels to all lanes and one pmaddubsw (or vpdpbusd) multiplies them with four levels of every token
/// at once, so a block's sums for all the tokens end up in lanes with no horizontal reduction. A tile is
/// <see cref="Tokens"/> wide for 256-bit kernels, <see cref="WideTokens"/> for 512-bit ones.
/// </summary>
internal static unsafe class Q8Tiles
{
    /// <summary>Tokens per tile of the 256-bit kernels, one per 32-bit lane.</summary>
    public const int Tokens = 8;

    /// <summary>Tokens per tile of the 512-bit kernels.</summary>
    public const int WideTokens = 16;

    /// <summary>Bytes of one block of a tile <see cref="Tokens"/> wide: 8 groups of 32 bytes, 8 offsets, 8 scales.</summary>
    public const int BlockBytes = 40 * Tokens;

    /// <summary>Byte offset of the offsets (8·Σ levels, int32 per token) inside a tile block.</summary>
    public const int OffsetsAt = 32 * Tokens;

    /// <summary>Byte offset of the scales (float per token) inside a tile block.</summary>
    public const int ScalesAt = 36 * Tokens;

    /// <summary>The same three for a tile <see cref="WideTokens"/> wide (groups of 64 bytes).</summary>
    public const int WideBlockBytes = 40 * WideTokens, WideOffsetsAt = 32 * WideTokens, WideScalesAt = 36 * WideTokens;

    /// <summary>Bytes of one tile <paramref name="width"/> tokens wide over <paramref name="columns"/> columns.</summary>
    public static nuint TileBytes(int columns, int width = Tokens) => (nuint)(columns / 32) * (nuint)(40 * width);

    /// <summary>
    /// Regroups tokens [first, first + count) of a <see cref="Q8Row"/> buffer into one tile <paramref name="width"/>
    /// tokens wide; lanes past <paramref name="count"/> get zero levels, offsets and scales.
    /// </summary>
    public static void Build(byte* rows, int columns, int first, int count, byte* tile, int width = Tokens)
    {
        int blocks = columns / 32;
        int blockBytes = 40 * width;
        for (int k = 0; k < width; k++)
        {
            bool present = k < count;
            Q8Row row = present ? Q8Activations.Row(rows, columns, first + k) : default;
            byte* block = tile;
            for (int b = 0; b < blocks; b++, block += blockBytes)
            {
                int* groups = (int*)block;
                int* offsets = (int*)(block + 32 * width);
                float* scales = (float*)(block + 36 * width);
                if (!present)
                {
                    for (int j = 0; j < 8; j++) groups[j * width + k] = 0;
                    offsets[k] = 0;
                    scales[k] = 0;
                    continue;
                }
                int* levels = (int*)(row.Quants + b * 32);
                int* nibbleOffsets = row.NibbleOffsets + b * 8;
                int offset = 0;
                for (int j = 0; j < 8; j++)
                {
                    groups[j * width + k] = levels[j];
                    offset += nibbleOffsets[j];
                }
                offsets[k] = offset;
                scales[k] = row.Scales[b];
            }
        }
    }

    /// <summary>Level <paramref name="column"/> of lane <paramref name="token"/> in a tile <paramref name="width"/> wide, for references and tests.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Level(byte* tile, int token, int column, int width = Tokens) =>
        (sbyte)tile[(nuint)(column / 32) * (nuint)(40 * width) + (nuint)(column % 32 / 4 * 4 * width + token * 4 + column % 4)];

    /// <summary>The scale of lane <paramref name="token"/> for block <paramref name="block"/> of a tile <paramref name="width"/> wide.</summary>
    public static float Scale(byte* tile, int token, int block, int width = Tokens) =>
        ((float*)(tile + (nuint)block * (nuint)(40 * width) + (nuint)(36 * width)))[token];

    /// <summary>
    /// Two rows through a kernel over four row pointers (for a product's last rows, so each row computed twice is
    /// cheaper than a third kernel): <paramref name="results"/>[r·width + k] = row r · token k for r in {0, 1}.
    /// </summary>
    public static void TwoRowsThroughFour(delegate*<byte*, byte*, byte*, byte*, byte*, int, float*, void> rows4,
        byte* weight0, byte* weight1, byte* tile, int blocks, float* results, int width)
    {
        float* four = stackalloc float[4 * WideTokens];
        rows4(weight0, weight1, weight0, weight1, tile, blocks, four);
        new ReadOnlySpan<float>(four, 2 * width).CopyTo(new Span<float>(results, 2 * width));
    }
}
