/** Small file and digest helpers shared by the model I/O and the servers. */
package dev.ncalign.lm.io;
