package dev.opnorm.linalg;

import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/** Random matrices and vectors for the tests, all seeded. */
final class Fixtures {
    private Fixtures() {}

    static final double INF = Double.POSITIVE_INFINITY;
    static final double[] PS = {1, 2, INF};

    /** Gaussian matrix whose entries are rounded to float, so float and double adapters see the same matrix. */
    static DMatrixRMaj gaussian(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        DMatrixRMaj a = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < a.data.length; i++) a.data[i] = (float) r.nextGaussian();
        return a;
    }

    static float[] gaussianVector(int n, long seed) {
        return StartVectors.gaussian(seed, n);
    }

    /** A = U diag(s) V^T with random orthonormal U (rows x r) and V (cols x r), r = s.length. */
    static DMatrixRMaj withSpectrum(int rows, int cols, double[] s, long seed) {
        DMatrixRMaj u = orthonormal(rows, s.length, seed), v = orthonormal(cols, s.length, seed + 1);
        DMatrixRMaj us = u.copy();
        for (int i = 0; i < rows; i++) for (int j = 0; j < s.length; j++) us.set(i, j, u.get(i, j) * s[j]);
        DMatrixRMaj a = new DMatrixRMaj(rows, cols);
        CommonOps_DDRM.multTransB(us, v, a);
        return a;
    }

    static DMatrixRMaj orthonormal(int n, int k, long seed) {
        DMatrixRMaj g = gaussian(n, k, seed);
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(n, k);
        qr.decompose(g);
        return qr.getQ(null, true);
    }

    static float[] toFloats(DMatrixRMaj a) {
        float[] f = new float[a.getNumElements()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.data[i];
        return f;
    }

    static double rel(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), Double.MIN_NORMAL);
    }
}
