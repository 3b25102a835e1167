package dev.opnorm.robust.certify;

/**
 * Whether label y keeps the largest logit everywhere in the ball: certified when every margin
 * z_y - z_j (j != y) has a positive lower bound over the ball.
 *
 * @param label       the label certified
 * @param eps         ball radius
 * @param marginLower min over j != y of the margin's lower bound over the ball
 * @param certified   marginLower &gt; 0
 * @param method      which bound gave marginLower for the binding class: "linear" (back-substitution to
 *                    the ball), "mean value" (margin at x minus eps sup ||grad||) or "interval" (logit boxes)
 */
public record Certificate(int label, double eps, double marginLower, boolean certified, String method) {}
